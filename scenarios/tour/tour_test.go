package tour

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"kafkasim/scenarios"
)

// Every section of both seeds is shown by at least one step, and every step names only
// sections that exist and library scenarios that exist.
func TestEverySeedSectionHasAStep(t *testing.T) {
	shown := map[string][]int{}
	for _, st := range Steps() {
		if len(st.Sections) == 0 {
			t.Errorf("%s: no '# seeds:' line naming the sections it shows", st.File)
		}
		for _, id := range st.Sections {
			if _, ok := SectionByID(id); !ok {
				t.Errorf("%s: seeds: %q is no section of the seeds (Sections)", st.File, id)
			}
			shown[id] = append(shown[id], st.N)
		}
		if len(st.Library) == 0 {
			t.Errorf("%s: no '# library:' line naming the scenarios that go deeper", st.File)
		}
		for _, name := range st.Library {
			if scenarios.Named(name) == nil {
				t.Errorf("%s: library: %q is no library scenario", st.File, name)
			}
		}
	}
	for _, s := range Sections {
		if len(shown[s.ID]) == 0 {
			t.Errorf("%s %s (%s): no tour step shows it", s.Seed, s.ID, s.Title)
		}
	}
}

// The tour reads kafka-intro-1 chapter by chapter: a step's first section of that seed never
// comes before the previous step's (kafka-intro-2's sections ride along where they fit).
func TestStepsFollowTheFirstSeed(t *testing.T) {
	index := map[string]int{}
	for i, s := range Sections {
		index[s.ID] = i
	}
	last, lastStep := -1, ""
	for _, st := range Steps() {
		for _, id := range st.Sections {
			if s, _ := SectionByID(id); s.Seed != Seed1 {
				continue
			}
			if index[id] < last {
				t.Errorf("%s shows %s first, before %s's %s: the steps leave the seed's order", st.File, id, lastStep, Sections[last].ID)
			}
			last, lastStep = index[id], st.File
			break
		}
	}
}

// The README's tour section maps each seed section to its steps as the step headers do: a
// row per section, naming every step that shows it.
func TestREADMEMapsEverySection(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, text, ok := strings.Cut(string(readme), "<!-- tour map -->")
	if !ok {
		t.Fatal("README.md has no <!-- tour map --> table")
	}
	text, _, _ = strings.Cut(text, "<!-- /tour map -->")
	rows := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 5 {
			continue
		}
		if _, id, ok := strings.Cut(cells[2], "`"); ok { // the section's id is in backquotes
			id, _, _ = strings.Cut(id, "`")
			rows[id] = cells[3]
		}
	}
	steps := map[string][]int{}
	for _, st := range Steps() {
		for _, id := range st.Sections {
			steps[id] = append(steps[id], st.N)
		}
	}
	for _, s := range Sections {
		row, ok := rows[s.ID]
		if !ok {
			t.Errorf("README tour map: no row for %s %s", s.Seed, s.ID)
			continue
		}
		var got []int
		for _, f := range strings.Fields(strings.NewReplacer(",", " ", "·", " ").Replace(row)) {
			var n int
			if _, err := fmt.Sscan(f, &n); err == nil {
				got = append(got, n)
			}
		}
		if !slices.Equal(got, steps[s.ID]) {
			t.Errorf("README tour map, %s: steps %v; the step headers say %v", s.ID, got, steps[s.ID])
		}
	}
}

// Every step has both languages for every caption, a question for the class in each, and a
// pause to answer it.
func TestStepsAreBilingualAndAsk(t *testing.T) {
	for _, st := range Steps() {
		if st.TitleZh == "" {
			t.Errorf("%s: no '# zh:' title under the first line", st.File)
		}
		zh, err := st.Source("zh")
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if n, m := strings.Count(string(st.src), "\n"), strings.Count(string(zh), "\n"); n != m {
			t.Errorf("%s: zh has %d lines; want %d (Localize keeps line numbers)", st.File, m, n)
		}
		for _, lang := range Languages {
			if len(st.Questions(lang)) == 0 {
				t.Errorf("%s: no question for the class in %s", st.File, lang)
			}
		}
		if !strings.Contains(string(st.src), "\npause\n") {
			t.Errorf("%s: no pause for the class to answer", st.File)
		}
		en, err := st.Scenario("en")
		if err != nil {
			t.Errorf("%s: %v", st.File, err)
			continue
		}
		if en.Title != st.Title {
			t.Errorf("%s: title %q; want %q", st.File, en.Title, st.Title)
		}
	}
}

func TestLocalize(t *testing.T) {
	src := "# Title\n# zh: 标题\nsay \"hello\"\n# zh: 你好\nwait 1s\n"
	got, err := Localize("x.scenario", []byte(src), "zh")
	if err != nil {
		t.Fatal(err)
	}
	if want := "# 标题\n# zh: 标题\nsay \"你好\"\n# zh: 你好\nwait 1s\n"; string(got) != want {
		t.Errorf("got %q; want %q", got, want)
	}
	if _, err := Localize("x.scenario", []byte("say \"hello\"\nwait 1s\n"), "zh"); err == nil || !strings.Contains(err.Error(), "x.scenario:1:") {
		t.Errorf("a say line without its zh form: got %v; want an error naming x.scenario:1", err)
	}
	if _, err := Localize("x.scenario", []byte(src), "fr"); err == nil || !strings.Contains(err.Error(), "--lang") {
		t.Errorf("lang fr: got %v; want an error naming --lang", err)
	}
}

// Every step runs green headless, and deterministically: the same trace hash in English and in
// Chinese (captions are not in the trace) and on a second run.
func TestEveryStepRunsGreenAndDeterministic(t *testing.T) {
	for _, st := range Steps() {
		t.Run(st.Name, func(t *testing.T) {
			t.Parallel()
			var hashes []uint64
			for _, lang := range []string{"en", "zh", "en"} {
				s, err := st.Scenario(lang)
				if err != nil {
					t.Fatal(err)
				}
				r, err := scenarios.Run(s, scenarios.Options{})
				if err != nil {
					t.Fatal(err)
				}
				if !r.OK {
					t.Fatalf("%s (%s): %s", st.File, lang, r.Failure)
				}
				if r.Verdict != "valid" {
					t.Errorf("%s (%s): verdict %s; want valid", st.File, lang, r.Verdict)
				}
				hashes = append(hashes, r.TraceHash)
			}
			if hashes[0] != hashes[1] || hashes[0] != hashes[2] {
				t.Errorf("%s: trace hashes en %016x, zh %016x, en again %016x; want one", st.File, hashes[0], hashes[1], hashes[2])
			}
		})
	}
}

func TestRunFromStepAndList(t *testing.T) {
	var b bytes.Buffer
	n := len(Steps())
	ok, err := Run(&b, RunOptions{Lang: "en", From: n})
	if err != nil || !ok {
		t.Fatalf("Run from the last step: ok %v, err %v\n%s", ok, err, b.String())
	}
	if got := strings.Count(b.String(), "\n"); got != 1 || !strings.HasPrefix(b.String(), "step ") {
		t.Errorf("Run from the last step printed %q; want one step line", b.String())
	}
	if _, err := Run(&b, RunOptions{Lang: "en", From: n + 1}); err == nil || !strings.Contains(err.Error(), "--step") {
		t.Errorf("Run from step %d: got %v; want an error naming --step", n+1, err)
	}
	b.Reset()
	if err := WriteList(&b, "zh"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != n || !strings.Contains(lines[0], "认识") {
		t.Errorf("WriteList zh: %d lines, first %q; want %d lines in Chinese", len(lines), lines[0], n)
	}
}
