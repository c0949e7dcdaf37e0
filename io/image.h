// Images (PNG, JPEG, BMP, ... whatever stb_image decodes) as normalized f32 tensors.
#pragma once

#include <string>
#include <vector>

#include "io/ndarray.h"

namespace octet::io {

struct ImageOptions {
  int width = 0, height = 0;             // output size; 0 keeps that dimension of the image
  std::vector<float> mean{0, 0, 0};      // per channel, or one value for all channels
  std::vector<float> std{1, 1, 1};
  float scale = 1 / 255.f;
  bool nchw = true;                      // [1,C,H,W]; false: [1,H,W,C]
  int channels = 3;                      // 3: RGB, 1: grayscale
};

// Decodes `path` to `channels` channels, resizes it (triangle/bilinear filter, clamped edges)
// when width/height ask for another size, and returns f32 values
// (pixel * scale - mean[c]) / std[c] shaped [1,C,H,W] (nchw) or [1,H,W,C].
// mean and std take one value per channel or a single value; the defaults (three equal values)
// also work for grayscale. Throws octet::Error naming the file on any failure.
NdArray read_image(const std::string& path, const ImageOptions& options = {});

}  // namespace octet::io
