package tour

import (
	"embed"
	"fmt"
	"io"
	"strings"

	"kafkasim/scenarios"
)

// steps holds the tour: scenarios/tour/NN-name.scenario, in file-name order.
//
//go:embed *.scenario
var steps embed.FS

// dir is where the steps live, relative to the repository root: their errors and replay
// commands name them from there.
const dir = "scenarios/tour/"

// Languages are the captions' languages: English, and Chinese as the seeds write it.
var Languages = []string{"en", "zh"}

// Step is one step of the tour.
type Step struct {
	N        int      // 1-based
	Name     string   // the file name without its number and extension: "hw-leo"
	File     string   // scenarios/tour/NN-name.scenario
	Title    string   // the first comment line
	TitleZh  string   // "# zh: …" right under it
	Sections []string // "# seeds: 1.2 HW; 1.2 LEO": the seed sections it shows (Section.ID)
	Library  []string // "# library: a, b": the library scenarios that go deeper
	src      []byte
}

// Steps are the tour's steps in order. It panics only if a shipped step has no header (a test
// guards against that).
func Steps() []Step {
	entries, err := steps.ReadDir(".")
	if err != nil {
		panic(err)
	}
	var out []Step
	for i, e := range entries { // ReadDir sorts by name
		src, err := steps.ReadFile(e.Name())
		if err != nil {
			panic(err)
		}
		st := Step{N: i + 1, File: dir + e.Name(), src: src}
		base := strings.TrimSuffix(e.Name(), ".scenario")
		if _, name, ok := strings.Cut(base, "-"); ok {
			st.Name = name
		} else {
			st.Name = base
		}
		st.header()
		out = append(out, st)
	}
	return out
}

// header reads the step's title, Chinese title, seed sections and library scenarios from its
// opening comment lines.
func (s *Step) header() {
	for i, line := range strings.Split(string(s.src), "\n") {
		t, ok := strings.CutPrefix(strings.TrimSpace(line), "#")
		if !ok {
			return
		}
		t = strings.TrimSpace(t)
		switch {
		case i == 0:
			s.Title = t
		case strings.HasPrefix(t, "zh:") && s.TitleZh == "":
			s.TitleZh = strings.TrimSpace(strings.TrimPrefix(t, "zh:"))
		case strings.HasPrefix(t, "seeds:"):
			for _, id := range strings.Split(strings.TrimPrefix(t, "seeds:"), ";") {
				if id = strings.TrimSpace(id); id != "" {
					s.Sections = append(s.Sections, id)
				}
			}
		case strings.HasPrefix(t, "library:"):
			for _, n := range strings.Split(strings.TrimPrefix(t, "library:"), ",") {
				if n = strings.TrimSpace(n); n != "" {
					s.Library = append(s.Library, n)
				}
			}
		}
	}
}

// TitleIn is the step's title in lang.
func (s *Step) TitleIn(lang string) string {
	if lang == "zh" && s.TitleZh != "" {
		return s.TitleZh
	}
	return s.Title
}

// Source is the step's file in lang: as shipped for "en", Localize'd for "zh".
func (s *Step) Source(lang string) ([]byte, error) {
	if lang == "en" {
		return s.src, nil
	}
	return Localize(s.File, s.src, lang)
}

// Scenario parses the step in lang (a fresh copy each call).
func (s *Step) Scenario(lang string) (*scenarios.Scenario, error) {
	src, err := s.Source(lang)
	if err != nil {
		return nil, err
	}
	return scenarios.Parse(s.File, src)
}

// CheckLang is nil when lang is one of Languages, else an error naming the flag.
func CheckLang(lang string) error {
	for _, l := range Languages {
		if l == lang {
			return nil
		}
	}
	return fmt.Errorf("--lang %q: want %s", lang, strings.Join(Languages, " or "))
}

// Localize turns a step's English file into lang's, line for line (so errors keep their
// line numbers): every `say "…"` followed by a `# zh: …` comment becomes `say "…"` in Chinese,
// and the title line takes the `# zh:` line under it. "en" returns src as it is. A say line
// without its translation is an error naming FILE:LINE.
func Localize(file string, src []byte, lang string) ([]byte, error) {
	if err := CheckLang(lang); err != nil {
		return nil, err
	}
	if lang == "en" {
		return src, nil
	}
	lines := strings.Split(string(src), "\n")
	prefix := "# " + lang + ":"
	for i, line := range lines {
		t := strings.TrimSpace(line)
		switch {
		case i == 0 && strings.HasPrefix(t, "#") && i+1 < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i+1]), prefix):
			lines[i] = "# " + strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(lines[i+1]), prefix))
		case strings.HasPrefix(t, "say "):
			if i+1 >= len(lines) || !strings.HasPrefix(strings.TrimSpace(lines[i+1]), prefix) {
				return nil, fmt.Errorf("%s:%d: say line without its %s form (a %q comment under it)", file, i+1, lang, prefix)
			}
			text := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(lines[i+1]), prefix))
			if strings.ContainsAny(text, `"\`) {
				return nil, fmt.Errorf("%s:%d: the %s caption holds a quote or a backslash: write “” instead", file, i+2, lang)
			}
			lines[i] = `say "` + text + `"`
		}
	}
	return []byte(strings.Join(lines, "\n")), nil
}

// Questions are the step's questions for the class in lang: its say lines that open with
// "Question:" (en) or "问题：" (zh).
func (s *Step) Questions(lang string) []string {
	src, err := s.Source(lang)
	if err != nil {
		return nil
	}
	open := map[string]string{"en": "Question:", "zh": "问题："}[lang]
	var out []string
	for _, line := range strings.Split(string(src), "\n") {
		if t, ok := strings.CutPrefix(strings.TrimSpace(line), `say "`+open); ok {
			out = append(out, strings.TrimSpace(strings.TrimSuffix(t, `"`)))
		}
	}
	return out
}

// WriteList prints the steps, one line each: number, name, title in lang, the seed sections
// it shows and the library scenarios that go deeper.
func WriteList(w io.Writer, lang string) error {
	for _, s := range Steps() {
		line := fmt.Sprintf("%2d  %-22s %s  [%s]", s.N, s.Name, s.TitleIn(lang), strings.Join(s.Sections, "; "))
		if len(s.Library) > 0 {
			line += "  library: " + strings.Join(s.Library, ", ")
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}

// RunOptions tune a headless tour.
type RunOptions struct {
	Lang    string
	Seed    uint64 // 0: each step's own
	From    int    // the first step (1-based); 0: 1
	Narrate bool   // print each step's captions as run does, not only its verdict line
}

// Run plays the steps from o.From to the end headless, printing one summary line per step
// (with its captions first when o.Narrate); ok is true when every step held.
func Run(w io.Writer, o RunOptions) (ok bool, err error) {
	all := Steps()
	from := max(o.From, 1)
	if from > len(all) {
		return false, fmt.Errorf("--step %d: the tour has steps 1..%d", o.From, len(all))
	}
	ok = true
	for _, st := range all[from-1:] {
		s, err := st.Scenario(o.Lang)
		if err != nil {
			return false, err
		}
		ro := scenarios.Options{Seed: o.Seed}
		if o.Narrate {
			fmt.Fprintf(w, "── step %d/%d · %s ──\n", st.N, len(all), st.TitleIn(o.Lang))
			ro.Narrate = w
		}
		r, err := scenarios.Run(s, ro)
		if err != nil {
			return false, err
		}
		ok = ok && r.OK
		if _, err := fmt.Fprintf(w, "step %2d  %s\n", st.N, scenarios.SummaryLine(r)); err != nil {
			return false, &scenarios.OutputError{Err: err}
		}
	}
	return ok, nil
}
