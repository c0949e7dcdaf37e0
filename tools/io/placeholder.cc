// PLACEHOLDER (being written).
#include "io/tensor_io.h"
