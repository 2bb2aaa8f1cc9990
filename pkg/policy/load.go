package policy

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// LoadDir reads the policy files in dir (*.yaml and *.yml, not in
// subdirectories, skipping hidden files such as editors' backups) and parses
// them. File names in errors are dir joined with the file's name. A
// directory without policy files is an error.
func LoadDir(dir string) (*Policy, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading policy directory: %w", err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		name := e.Name()
		ext := filepath.Ext(name)
		if e.IsDir() || strings.HasPrefix(name, ".") || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading policy file: %w", err)
		}
		files[path] = data
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("policy directory %s has no *.yaml files", dir)
	}
	return Parse(files)
}
