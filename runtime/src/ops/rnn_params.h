// Typed attributes and geometry of LSTM, GRU and RNN (ONNX semantics; docs/format.md, "Recurrent
// ops"). Parsed in one place for validation, shape inference and every backend.
#pragma once

#include <cstdint>
#include <vector>

#include "model/model_data.h"

namespace octet {

enum class RnnAct : uint8_t { Sigmoid, Tanh, Relu };

struct RnnParams {
  int gates = 1;              // G: LSTM 4 (i,o,f,c), GRU 3 (z,r,h), RNN 1
  int dirs = 1;               // D: 2 for bidirectional
  bool reverse = false;       // direction "reverse" (one direction, run backwards)
  int64_t hidden = 0;         // H (attribute hidden_size, or taken from R when absent)
  int layout = 0;             // 0: X [S,B,I], Y [S,D,B,H]; 1: X [B,S,I], Y [B,S,D,H]
  bool linear_before_reset = false;   // GRU
  float clip = 0;             // > 0: pre-activations clamped to [-clip, clip]
  // Per direction: LSTM f,g,h; GRU f,g; RNN f.
  std::vector<RnnAct> acts;   // size dirs * acts_per_dir
  int acts_per_dir() const { return gates == 4 ? 3 : gates == 3 ? 2 : 1; }
  RnnAct act(int dir, int k) const { return acts[static_cast<size_t>(dir * acts_per_dir() + k)]; }
};

// Throws node_error on a bad attribute. `hidden_from_r` is R's last dimension (0 if unknown).
RnnParams parse_rnn(const NodeDef& node, int64_t hidden_from_r = 0);

// Input and output slots (ONNX order).
enum RnnIn { kRnnX = 0, kRnnW, kRnnR, kRnnB, kRnnSeqLens, kRnnInitH, kRnnInitC, kRnnP };
enum RnnOut { kRnnY = 0, kRnnYh, kRnnYc };

}  // namespace octet
