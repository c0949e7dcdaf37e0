// Everything in octet::io: arrays from and to .npy / .npz files, images, calibration folders.
//   io/ndarray.h NdArray (owned dtype + shape + bytes)
//   io/npy.h     read_npy, parse_npy, write_npy
//   io/npz.h     read_npz, parse_npz, write_npz
//   io/image.h   read_image, ImageOptions
//   io/file.h    read_file, AtomicFile, list_files
#pragma once

#include "io/file.h"
#include "io/image.h"
#include "io/npy.h"
#include "io/npz.h"
#include "io/ndarray.h"
