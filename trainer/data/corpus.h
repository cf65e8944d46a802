// Text corpora: documents from text files, UTF-8 repair, and discovery of the installed fortune
// collections (Debian's fortunes, fortunes-de, -it, -es, -ru, -pl, -cs).
//
// A file is in fortune format when some line is a single '%' (strfile's separator; a trailing
// '\r' is ignored): every fortune is then one document. Any other file is one document.
// Documents have CRLF normalised to LF, leading blank lines and trailing whitespace removed;
// empty documents are dropped. Invalid UTF-8 is repaired: each maximal invalid subsequence
// (Unicode 15, section 3.9, "U+FFFD substitution of maximal subparts") becomes U+FFFD and is
// counted.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sy::trainer {

inline constexpr const char* kFortuneRoot = "/usr/share/games/fortunes";

struct Document {
  std::string text;
  std::string language;  // ISO 639-1 code ("en", "de", ...) or "und" when unknown
  std::string source;    // the file it came from
};

struct CorpusStats {
  int64_t files = 0;
  int64_t documents = 0;
  int64_t invalid_utf8 = 0;  // invalid sequences replaced by U+FFFD
  int64_t empty_dropped = 0;
};

// Replaces invalid UTF-8 in place; returns the number of replacements.
int64_t repair_utf8(std::string* text);

bool is_fortune_format(std::string_view text);

// Splits already-normalised text into documents (fortunes, or the whole text); drops empty ones
// and counts them in stats->empty_dropped.
std::vector<std::string> split_documents(std::string_view text, CorpusStats* stats);

// Reads `path` and appends its documents to `out`. Throws kBadInput naming the file when it is
// missing or unreadable.
void read_documents(const std::string& path, const std::string& language,
                    std::vector<Document>* out, CorpusStats* stats);

struct CorpusFile {
  std::string path;      // the real path (symbolic links resolved)
  std::string language;  // from the folder under the root: top level "en", de/ "de", ...
};

// Walks `root` for fortune files: symbolic links resolved and each real file listed once,
// strfile's .dat indexes and the .u8 companions (links or empty files) skipped, empty files
// skipped. The language is the first folder of the real path under the root ("en" at the top
// level; cz/ and sk/ hold links into cs/, so they count as "cs"). Folders named "off" hold the
// collections marked offensive; they are left out unless include_offensive. Sorted by path.
// A missing root gives an empty list.
std::vector<CorpusFile> discover_fortunes(const std::string& root = kFortuneRoot,
                                          bool include_offensive = false);

}  // namespace sy::trainer
