package main

import (
	"errors"
	"go/build"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportDirection keeps the package graph one way:
// cmd → release → {gitinfo, registry}; gitinfo and registry never import
// each other, release or cmd. Test files and test helper packages
// (…test) may use anything below them.
func TestImportDirection(t *testing.T) {
	const module = "github.com/releasetool/release"
	forbidden := map[string][]string{
		"release":  {"cmd"},
		"gitinfo":  {"release", "registry", "cmd"},
		"registry": {"release", "gitinfo", "cmd"},
	}
	for dir, bad := range forbidden {
		pkg, err := build.ImportDir(filepath.Join("..", "..", dir), 0)
		var noGo *build.NoGoError
		if errors.As(err, &noGo) {
			continue // not written yet
		}
		if err != nil {
			t.Fatalf("reading package %s: %v", dir, err)
		}
		for _, imp := range pkg.Imports {
			rel, ok := strings.CutPrefix(imp, module+"/")
			if !ok {
				continue
			}
			for _, b := range bad {
				if rel == b || strings.HasPrefix(rel, b+"/") {
					t.Errorf("package %s imports %s: imports must run cmd → release → {gitinfo, registry}", dir, imp)
				}
			}
		}
	}
}
