// ByteTokenizer (tokenizer.h).
#include "core/common/error.h"
#include "trainer/data/tokenizer.h"

namespace sy::trainer {

std::vector<int32_t> ByteTokenizer::encode(std::string_view text) const {
  std::vector<int32_t> ids(text.size());
  for (size_t i = 0; i < text.size(); ++i) ids[i] = static_cast<unsigned char>(text[i]);
  return ids;
}

std::string ByteTokenizer::decode(std::span<const int32_t> ids) const {
  std::string out;
  out.reserve(ids.size());
  for (const int32_t id : ids) {
    SY_REQUIRE(ErrorKind::kBadInput, id >= 0 && id < kVocabSize, "byte tokenizer: token id ", id,
               " is outside [0, ", kVocabSize, ")");
    if (id < 256) out.push_back(static_cast<char>(id));
  }
  return out;
}

}  // namespace sy::trainer
