// Package deploy holds the systemd units and example configs; its tests
// check them and the Dockerfile without Docker.
package deploy

import (
	"bufio"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dockerfile is the repository's Dockerfile, read as stages.
type stage struct {
	from, name string
	lines      []string
}

func readDockerfile(t *testing.T) []stage {
	t.Helper()
	f, err := os.Open("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stages []stage
	from := regexp.MustCompile(`^FROM (\S+)(?: AS (\S+))?$`)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if m := from.FindStringSubmatch(line); m != nil {
			stages = append(stages, stage{from: m[1], name: m[2]})
			continue
		}
		if len(stages) == 0 {
			t.Fatalf("Dockerfile: %q before the first FROM", line)
		}
		stages[len(stages)-1].lines = append(stages[len(stages)-1].lines, line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return stages
}

// TestDockerfileTargets checks that the ca, bastion and gate targets exist,
// each on the distroless static base as its non-root user, with the
// binaries it needs, and that the CA is the default (last) stage.
func TestDockerfileTargets(t *testing.T) {
	stages := readDockerfile(t)
	want := map[string][]string{
		"ca":      {"/out/ca", "/out/lockbox"},
		"bastion": {"/out/bastion"},
		"gate":    {"/out/lockbox-gate"},
	}
	seen := map[string]bool{}
	for _, s := range stages {
		bins, ok := want[s.name]
		if !ok {
			continue
		}
		seen[s.name] = true
		if s.from != "gcr.io/distroless/static-debian12:nonroot" {
			t.Errorf("target %s: FROM %s, want gcr.io/distroless/static-debian12:nonroot", s.name, s.from)
		}
		body := strings.Join(s.lines, "\n")
		if !strings.Contains(body, "USER nonroot:nonroot") {
			t.Errorf("target %s: no USER nonroot:nonroot", s.name)
		}
		for _, b := range bins {
			if !strings.Contains(body, "COPY --from=build") || !strings.Contains(body, b) {
				t.Errorf("target %s: %s is not copied from the build stage", s.name, b)
			}
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("no target %s", name)
		}
	}
	if last := stages[len(stages)-1].name; last != "ca" {
		t.Errorf("default (last) stage is %q, want ca", last)
	}
}

// TestDockerfileBuild runs the build stage's go build command as written,
// with its environment, into a temporary directory, and checks that every
// binary comes out statically linked (no interpreter, no shared library).
func TestDockerfileBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every binary")
	}
	var run string
	for _, s := range readDockerfile(t) {
		if s.name != "build" {
			continue
		}
		for _, l := range s.lines {
			if strings.HasPrefix(l, "RUN ") && strings.Contains(l, "go build") {
				run = strings.TrimPrefix(l, "RUN ")
			}
		}
	}
	if run == "" {
		t.Fatal("Dockerfile: no RUN ... go build in the build stage")
	}
	fields := shellWords(run)
	var env []string
	for len(fields) > 0 && strings.Contains(fields[0], "=") {
		env = append(env, fields[0])
		fields = fields[1:]
	}
	if len(fields) < 2 || fields[0] != "go" || fields[1] != "build" {
		t.Fatalf("Dockerfile build command %q: want [VAR=VALUE...] go build ...", run)
	}
	if !contains(env, "CGO_ENABLED=0") {
		t.Fatalf("Dockerfile build command %q: not CGO_ENABLED=0", run)
	}
	out := t.TempDir()
	args := make([]string, 0, len(fields))
	for _, a := range fields[1:] {
		if a == "/out/" {
			a = out + "/"
		}
		args = append(args, a)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	for _, name := range []string{"ca", "bastion", "lockbox", "lockbox-gate"} {
		f, err := elf.Open(filepath.Join(out, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s has an ELF interpreter: not static", name)
			}
		}
		if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
			t.Errorf("%s needs shared libraries %v: not static", name, libs)
		}
		f.Close()
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// shellWords splits a command line the way sh does for the Dockerfile's
// RUN lines: on blanks, with single quotes grouping a word.
func shellWords(line string) []string {
	var words []string
	var w strings.Builder
	in, quoted := false, false
	for _, r := range line {
		switch {
		case r == '\'':
			quoted = !quoted
			in = true
		case (r == ' ' || r == '\t') && !quoted:
			if in {
				words = append(words, w.String())
				w.Reset()
				in = false
			}
		default:
			w.WriteRune(r)
			in = true
		}
	}
	if in {
		words = append(words, w.String())
	}
	return words
}
