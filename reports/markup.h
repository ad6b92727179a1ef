#pragma once
// Escaping for the text formats the reports write: XML/HTML (JUnit, SVG, the HTML report) and
// GitHub-flavoured Markdown (the step summary).

#include <string>
#include <string_view>

#include "base/text.h"

namespace peakbench::markup {

/// XML and HTML escaping is base/text.h's xml_escape (control characters replaced too).
using peakbench::xml_escape;

/// Text that GitHub-flavoured Markdown shows literally: * _ ` [ ] \ and ~ backslash-escaped, & < >
/// as entities (so HTML in a name is shown, never rendered). Leaves `|` alone: the table renderer
/// escapes it in cells.
std::string markdown_escape(std::string_view text);

}  // namespace peakbench::markup
