"""The kernel functions, one module per kernel source file, one function per kernel function."""
