#include "cli/cli.h"

int main(int argc, char** argv) { return peakbench::real_main(argc, argv); }
