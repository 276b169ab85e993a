package gitinfo

import (
	"fmt"
	"os"
	"path/filepath"
)

// FindRoot returns the worktree root of the repository containing dir: dir
// or the nearest parent holding a .git directory or file, as git finds it.
func FindRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("finding repository: %w", err)
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("%s: %w", abs, ErrNotRepository)
		}
	}
}
