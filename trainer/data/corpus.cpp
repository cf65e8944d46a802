// Documents from text files, UTF-8 repair and fortune discovery (corpus.h).
#include "trainer/data/corpus.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "core/common/error.h"

namespace sy::trainer {

namespace fs = std::filesystem;

namespace {

constexpr const char* kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence at s[i], or 0 when it is invalid; *consumed is then the
// length of the maximal invalid subpart (>= 1) to replace.
size_t utf8_sequence(std::string_view s, size_t i, size_t* consumed) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;  // no overlongs
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;  // no overlongs
    if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    *consumed = 1;
    return 0;
  }
  for (size_t k = 1; k < len; ++k) {
    const size_t j = i + k;
    const auto b = j < s.size() ? static_cast<unsigned char>(s[j]) : 0u;
    const bool ok = j < s.size() && (k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF));
    if (!ok) {
      *consumed = k;
      return 0;
    }
  }
  return len;
}

// Removes leading blank lines and trailing whitespace.
std::string_view trim_document(std::string_view doc) {
  size_t start = 0;
  for (size_t i = 0; i < doc.size(); ++i) {
    const char c = doc[i];
    if (c == '\n') {
      start = i + 1;
    } else if (c != ' ' && c != '\t' && c != '\r' && c != '\v' && c != '\f') {
      break;
    }
  }
  doc.remove_prefix(std::min(start, doc.size()));
  while (!doc.empty() && std::strchr(" \t\r\n\v\f", doc.back()) != nullptr) doc.remove_suffix(1);
  return doc;
}

bool is_separator(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line == "%";
}

}  // namespace

int64_t repair_utf8(std::string* text) {
  const std::string_view s = *text;
  size_t i = 0, consumed = 0;
  while (i < s.size()) {  // fast path: the common case is valid text
    const size_t len = utf8_sequence(s, i, &consumed);
    if (len == 0) break;
    i += len;
  }
  if (i == s.size()) return 0;
  std::string out(s.substr(0, i));
  int64_t replaced = 0;
  while (i < s.size()) {
    const size_t len = utf8_sequence(s, i, &consumed);
    if (len > 0) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out.append(kReplacement);
      ++replaced;
      i += consumed;
    }
  }
  *text = std::move(out);
  return replaced;
}

bool is_fortune_format(std::string_view text) {
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t end = std::min(text.find('\n', pos), text.size());
    if (is_separator(text.substr(pos, end - pos))) return true;
    pos = end + 1;
  }
  return false;
}

std::vector<std::string> split_documents(std::string_view text, CorpusStats* stats) {
  std::vector<std::string_view> pieces;
  if (is_fortune_format(text)) {
    size_t pos = 0, doc_start = 0;
    while (pos <= text.size()) {
      const size_t end = std::min(text.find('\n', pos), text.size());
      if (is_separator(text.substr(pos, end - pos))) {
        pieces.push_back(text.substr(doc_start, pos - doc_start));
        doc_start = std::min(end + 1, text.size());
      }
      pos = end + 1;
    }
    pieces.push_back(text.substr(doc_start));
  } else {
    pieces.push_back(text);
  }
  std::vector<std::string> docs;
  for (size_t k = 0; k < pieces.size(); ++k) {
    const std::string_view doc = trim_document(pieces[k]);
    if (doc.empty()) {
      // Text before a leading '%' or after a trailing one is empty by format, not dropped.
      if (k > 0 && k + 1 < pieces.size()) ++stats->empty_dropped;
      continue;
    }
    docs.emplace_back(doc);
  }
  return docs;
}

void read_documents(const std::string& path, const std::string& language,
                    std::vector<Document>* out, CorpusStats* stats) {
  std::error_code ec;
  SY_REQUIRE(ErrorKind::kBadInput, fs::exists(path, ec), "input file ", path, ": does not exist");
  SY_REQUIRE(ErrorKind::kBadInput, fs::is_regular_file(path, ec), "input file ", path,
             ": not a regular file");
  std::ifstream in(path, std::ios::binary);
  SY_REQUIRE(ErrorKind::kBadInput, in.good(), "input file ", path,
             ": cannot open: ", std::strerror(errno));
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  SY_REQUIRE(ErrorKind::kBadInput, !in.bad(), "input file ", path, ": read error");
  stats->invalid_utf8 += repair_utf8(&raw);
  // CRLF -> LF (a lone '\r' stays).
  std::string text;
  text.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n') continue;
    text.push_back(raw[i]);
  }
  ++stats->files;
  for (std::string& doc : split_documents(text, stats)) {
    out->push_back(Document{std::move(doc), language, path});
    ++stats->documents;
  }
}

std::vector<CorpusFile> discover_fortunes(const std::string& root, bool include_offensive) {
  std::error_code ec;
  const fs::path real_root = fs::canonical(root, ec);
  if (ec || !fs::is_directory(real_root, ec)) return {};
  std::map<std::string, std::string> found;  // real path -> language, sorted
  auto it = fs::recursive_directory_iterator(real_root, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path& p = it->path();
    const std::string name = p.filename().string();
    if (name.ends_with(".dat") || name.ends_with(".u8")) continue;
    std::error_code ec2;
    if (!fs::is_regular_file(p, ec2)) continue;  // follows links; folders and dangling links out
    const fs::path real = fs::canonical(p, ec2);
    if (ec2) continue;
    const fs::path rel = real.lexically_relative(real_root);
    if (rel.empty() || *rel.begin() == "..") continue;  // a link out of the tree
    const std::string real_name = real.filename().string();
    if (real_name.ends_with(".dat") || real_name.ends_with(".u8")) continue;
    if (fs::file_size(real, ec2) == 0 || ec2) continue;
    bool offensive = false;
    for (auto part = rel.begin(); part != rel.end(); ++part) offensive |= (*part == "off");
    if (offensive && !include_offensive) continue;
    // Top-level files (and a top-level off/) are English; otherwise the language folder.
    const bool top_level = std::next(rel.begin()) == rel.end() || *rel.begin() == "off";
    found.emplace(real.string(), top_level ? std::string("en") : rel.begin()->string());
  }
  std::vector<CorpusFile> files;
  files.reserve(found.size());
  for (auto& [path, language] : found) files.push_back(CorpusFile{path, language});
  return files;
}

}  // namespace sy::trainer
