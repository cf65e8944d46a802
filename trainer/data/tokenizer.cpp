// open_tokenizer(): picks the tokenizer implementation from a spec string (tokenizer.h).
#include "trainer/data/tokenizer.h"

namespace sy::trainer {

std::unique_ptr<Tokenizer> open_tokenizer(const std::string& spec) {
  if (spec == "byte") return std::make_unique<ByteTokenizer>();
  return std::make_unique<SentencePieceTokenizer>(spec);
}

}  // namespace sy::trainer
