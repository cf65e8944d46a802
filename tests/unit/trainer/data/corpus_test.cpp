// Tests of corpus reading: fortune-format splitting, CRLF, UTF-8 repair, and fortune discovery
// on a tree built by the test (links, .dat/.u8 companions, language folders, off/).
#include "trainer/data/corpus.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "tests/unit/trainer/test_util.h"

namespace sy::trainer {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace fs = std::filesystem;
using testing::fresh_dir;
using testing::write_file;

std::vector<std::string> texts(const std::vector<Document>& docs) {
  std::vector<std::string> out;
  for (const Document& d : docs) out.push_back(d.text);
  return out;
}

TEST(Corpus, FortuneFileGivesOneDocumentPerFortune) {
  const fs::path dir = fresh_dir("fortune");
  write_file(dir / "f",
             "First fortune.\n\t\t-- Someone\n%\nSecond\nline two\n%\n\n%\n  Third  \n%\n");
  std::vector<Document> docs;
  CorpusStats stats;
  read_documents((dir / "f").string(), "de", &docs, &stats);
  EXPECT_THAT(texts(docs),
              ElementsAre("First fortune.\n\t\t-- Someone", "Second\nline two", "  Third"));
  EXPECT_EQ(stats.files, 1);
  EXPECT_EQ(stats.documents, 3);
  EXPECT_EQ(stats.empty_dropped, 1);
  EXPECT_EQ(stats.invalid_utf8, 0);
  EXPECT_EQ(docs[0].language, "de");
  EXPECT_EQ(docs[0].source, (dir / "f").string());
}

TEST(Corpus, CrlfFortunesAndPlainFiles) {
  const fs::path dir = fresh_dir("crlf");
  write_file(dir / "dos", "Один\r\nдва\r\n%\r\nтри\r\n");
  write_file(dir / "plain", "\n\nA plain file.\n\nTwo paragraphs, one document.\n\n");
  std::vector<Document> docs;
  CorpusStats stats;
  read_documents((dir / "dos").string(), "ru", &docs, &stats);
  read_documents((dir / "plain").string(), "und", &docs, &stats);
  EXPECT_THAT(texts(docs),
              ElementsAre("Один\nдва", "три", "A plain file.\n\nTwo paragraphs, one document."));
  EXPECT_TRUE(is_fortune_format("a\n%\r\nb"));
  EXPECT_FALSE(is_fortune_format("100%\n% of\n%%\n"));
}

TEST(Corpus, InvalidUtf8IsReplacedAndCounted) {
  // Maximal subparts, as Python's decode(errors="replace") and the Unicode standard count them.
  std::string text =
      "ok \xff\xfe x \xe2\x82 y \xc0\xaf z \xed\xa0\x80 w \xf0\x9f\x99 end \xf4\x90\x80\x80 "
      "\xe2\x82\xac";
  EXPECT_EQ(repair_utf8(&text), 13);
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(text, "ok " + r + r + " x " + r + " y " + r + r + " z " + r + r + r + " w " + r +
                      " end " + r + r + r + r + " \xe2\x82\xac");
  std::string valid = "Größe ёжик żółć kůň 🙂";
  const std::string copy = valid;
  EXPECT_EQ(repair_utf8(&valid), 0);
  EXPECT_EQ(valid, copy);

  const fs::path dir = fresh_dir("utf8");
  write_file(dir / "latin1",
             "Gr\xf6\xdf"
             "e\n%\nok\n%\nK\xe4se\n");
  std::vector<Document> docs;
  CorpusStats stats;
  read_documents((dir / "latin1").string(), "de", &docs, &stats);
  EXPECT_EQ(stats.invalid_utf8, 3);
  EXPECT_THAT(texts(docs), ElementsAre("Gr" + r + r + "e", "ok", "K" + r + "se"));
}

TEST(Corpus, MissingFileIsBadInputNamingIt) {
  const fs::path dir = fresh_dir("missing");
  std::vector<Document> docs;
  CorpusStats stats;
  for (const fs::path& p : {dir / "nope.txt", dir}) {
    EXPECT_THAT(testing::error_message(ErrorKind::kBadInput,
                                       [&] { read_documents(p.string(), "en", &docs, &stats); }),
                HasSubstr(p.string()));
  }
}

TEST(Corpus, DiscoverFortunesResolvesLinksAndLanguages) {
  const fs::path root = fresh_dir("tree");
  write_file(root / "cookie", "a\n%\nb\n");
  write_file(root / "cookie.dat", "index");
  fs::create_symlink("cookie", root / "cookie.u8");
  write_file(root / "de" / "witze", "c\n%\nd\n");
  fs::create_symlink("witze", root / "de" / "witze.u8");
  fs::create_symlink("de/witze", root / "witze");  // top-level link into a language folder
  write_file(root / "cs" / "citace", "e\n%\nf\n");
  fs::create_directories(root / "cz");
  fs::create_symlink("../cs/citace", root / "cz" / "citace");
  write_file(root / "pl" / "bajki", "g\n%\nh\n");
  write_file(root / "pl" / "bajki.u8", "");  // fortunes-pl ships empty .u8 files
  write_file(root / "pl" / "pusty", "");
  write_file(root / "es" / "off" / "varios.fortunes", "i\n%\nj\n");
  fs::create_symlink("/nonexistent/target", root / "dangling");

  const auto files = discover_fortunes(root.string());
  std::vector<std::string> got;
  for (const CorpusFile& f : files) {
    got.push_back(fs::path(f.path).lexically_relative(fs::canonical(root)).string() + ":" +
                  f.language);
  }
  EXPECT_THAT(got, ElementsAre("cookie:en", "cs/citace:cs", "de/witze:de", "pl/bajki:pl"));

  const auto with_off = discover_fortunes(root.string(), /*include_offensive=*/true);
  ASSERT_EQ(with_off.size(), 5u);
  EXPECT_EQ(with_off[3].language, "es");
  EXPECT_TRUE(discover_fortunes((root / "absent").string()).empty());
}

TEST(Corpus, InstalledFortunesAreFoundOnce) {
  const auto files = discover_fortunes();
  if (files.empty()) GTEST_SKIP() << "no fortune packages installed under " << kFortuneRoot;
  std::set<std::string> paths, languages;
  for (const CorpusFile& f : files) {
    EXPECT_TRUE(paths.insert(f.path).second) << "listed twice: " << f.path;
    EXPECT_FALSE(f.path.ends_with(".dat") || f.path.ends_with(".u8")) << f.path;
    EXPECT_EQ(f.path.find("/off/"), std::string::npos) << f.path;
    languages.insert(f.language);
  }
  EXPECT_TRUE(languages.count("en")) << "the fortunes package's top-level files are English";
  EXPECT_FALSE(languages.count("cz")) << "cz/ only links into cs/";
}

}  // namespace
}  // namespace sy::trainer
