#include "ops/einsum.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <string>

#include "ops/op_spec.h"

namespace octet {

namespace {
bool is_label(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }

// One term's letters, with the ellipsis position (-1: none) in letters.
struct Term {
  std::string letters;
  int ellipsis = -1;
};

Term parse_term(const NodeDef& n, const std::string& t) {
  Term r;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t.compare(i, 3, "...") == 0) {
      if (r.ellipsis >= 0) node_error(n, "equation term '" + t + "' has two ellipses");
      r.ellipsis = static_cast<int>(r.letters.size());
      i += 2;
    } else if (is_label(t[i])) {
      r.letters += t[i];
    } else if (t[i] != ' ') {
      node_error(n, std::string("equation has the character '") + t[i] + "'; labels are letters");
    }
  }
  return r;
}

// Labels of a term whose ellipsis covers `k` dims.
std::vector<int> labels_of(const Term& t, int k) {
  std::vector<int> out;
  for (int i = 0; i <= static_cast<int>(t.letters.size()); ++i) {
    if (i == t.ellipsis)
      for (int e = k; e >= 1; --e) out.push_back(-e);
    if (i < static_cast<int>(t.letters.size())) out.push_back(static_cast<unsigned char>(t.letters[i]));
  }
  return out;
}
}  // namespace

EinsumPlan parse_einsum(const NodeDef& n, const std::vector<Shape>& in) {
  std::string eq = n.attrs.get_string("equation", "");
  const size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  std::vector<Term> terms;
  for (size_t b = 0;;) {
    const size_t c = lhs.find(',', b);
    terms.push_back(parse_term(n, lhs.substr(b, c == std::string::npos ? std::string::npos : c - b)));
    if (c == std::string::npos) break;
    b = c + 1;
  }
  if (terms.size() != in.size())
    node_error(n, "equation '" + eq + "' has " + std::to_string(terms.size()) + " operands, the node " + std::to_string(in.size()));
  EinsumPlan p;
  int ellipsis_rank = 0;
  for (size_t i = 0; i < terms.size(); ++i) {
    const int k = static_cast<int>(in[i].size()) - static_cast<int>(terms[i].letters.size());
    if (k < 0 || (k > 0 && terms[i].ellipsis < 0))
      node_error(n, "operand " + std::to_string(i) + " has rank " + std::to_string(in[i].size()) + ", its term '" + terms[i].letters + "' does not");
    p.inputs.push_back(labels_of(terms[i], k));
    ellipsis_rank = std::max(ellipsis_rank, k);
    for (size_t d = 0; d < in[i].size(); ++d) {
      const int l = p.inputs[i][d];
      const int64_t s = in[i][d];
      auto it = p.sizes.find(l);
      if (it == p.sizes.end() || (it->second == 1 && l < 0)) p.sizes[l] = s;
      else if (it->second != s && !(l < 0 && s == 1))
        node_error(n, "label extents differ: " + std::to_string(it->second) + " and " + std::to_string(s) + " in operand " + std::to_string(i));
    }
  }
  if (arrow != std::string::npos) {
    const Term out = parse_term(n, eq.substr(arrow + 2));
    p.output = labels_of(out, out.ellipsis < 0 ? 0 : ellipsis_rank);
    for (int l : p.output)
      if (l > 0 && !p.sizes.count(l)) node_error(n, std::string("output label '") + static_cast<char>(l) + "' is in no operand");
  } else {   // implicit: the ellipsis dims, then the letters used once, in alphabetical order
    std::map<int, int> count;
    for (const auto& t : p.inputs)
      for (int l : t) ++count[l];
    for (int e = ellipsis_rank; e >= 1; --e) p.output.push_back(-e);
    for (const auto& [l, c] : count)
      if (l > 0 && c == 1) p.output.push_back(l);
  }
  std::set<int> out_set(p.output.begin(), p.output.end());
  if (out_set.size() != p.output.size()) node_error(n, "equation '" + eq + "' repeats an output label");
  for (const auto& [l, s] : p.sizes)   // an ellipsis the output leaves out is summed, as letters are
    if (!out_set.count(l)) p.summed.push_back(l);
  return p;
}

}  // namespace octet
