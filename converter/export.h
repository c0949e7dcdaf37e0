// Turning the converter IR into octet's format (via ModelWriter).
#pragma once

#include <nlohmann/json.hpp>

#include "ir.h"
#include "writer/model_writer.h"

namespace octet::converter {

struct ExportMeta {
  std::string producer;
  nlohmann::json source, conversion;
};

// A writer holding the whole model with every tensor's shape filled in. Validates the model with
// the runtime's loader on the way (a converter bug surfaces here, not in the user's app).
ModelWriter build_writer(const Graph& g, const ExportMeta& meta);

}  // namespace octet::converter
