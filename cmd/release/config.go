package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/releasetool/release/gitinfo"
)

// configFileName is the configuration file at the repository root.
const configFileName = ".release.yaml"

// fileConfig is what .release.yaml holds: any flag by its name, and the
// sections that have no flag.
type fileConfig struct {
	path  string
	flags map[string][]string
	// rules maps a Conventional Commit type to a bump (major, minor,
	// patch, none), overriding the default rules.
	rules map[string]string
}

// loadConfig reads .release.yaml at the root of the repository that holds
// dir. No repository or no file is no configuration.
func loadConfig(dir string, known map[string]bool) (*fileConfig, error) {
	root, err := gitinfo.FindRoot(dir)
	if err != nil {
		return &fileConfig{}, nil
	}
	path := filepath.Join(root, configFileName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &fileConfig{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading configuration: %w", err)
	}
	cfg, err := parseConfig(data, known)
	if err != nil {
		return nil, &usageError{
			err:  fmt.Errorf("%s: %w", path, err),
			hint: "keys of " + configFileName + " are flag names (e.g. tag-prefix: v) and 'rules'",
		}
	}
	cfg.path = path
	return cfg, nil
}

// parseConfig decodes the file. Keys are flag names; values are scalars or
// lists of scalars (for repeatable flags).
func parseConfig(data []byte, known map[string]bool) (*fileConfig, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parsing: %w", err)
	}
	cfg := &fileConfig{flags: map[string][]string{}}
	if doc.Kind == 0 { // empty file
		return cfg, nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("the file must be a mapping of keys to values")
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		key := k.Value
		switch {
		case key == "rules":
			rules, err := stringMap(v)
			if err != nil {
				return nil, fmt.Errorf("line %d: rules: %w", v.Line, err)
			}
			cfg.rules = rules
		case known[key]:
			vals, err := scalars(v)
			if err != nil {
				return nil, fmt.Errorf("line %d: %s: %w", v.Line, key, err)
			}
			cfg.flags[key] = vals
		default:
			return nil, fmt.Errorf("line %d: unknown key %q", k.Line, key)
		}
	}
	return cfg, nil
}

func scalars(n *yaml.Node) ([]string, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		return []string{n.Value}, nil
	case yaml.SequenceNode:
		var out []string
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return nil, errors.New("a list may hold only plain values")
			}
			out = append(out, c.Value)
		}
		return out, nil
	default:
		return nil, errors.New("want a value or a list of values")
	}
}

func stringMap(n *yaml.Node) (map[string]string, error) {
	if n.Kind != yaml.MappingNode {
		return nil, errors.New("want a mapping of commit type to bump")
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("%s: want one of major, minor, patch, none", k.Value)
		}
		out[strings.ToLower(k.Value)] = v.Value
	}
	return out, nil
}

// apply sets, on the running command, every flag of the file that was
// neither given on the command line nor set through its environment
// variable (cli.Context.IsSet covers both): flag > env > file > default.
func (cfg *fileConfig) apply(c *cli.Context) error {
	own := map[string]bool{}
	for _, f := range c.Command.Flags {
		own[f.Names()[0]] = true
	}
	for _, name := range sortedKeys(cfg.flags) {
		if !own[name] || c.IsSet(name) || commandLineOnly(c.Command.Name, name) {
			continue
		}
		for _, v := range cfg.flags[name] {
			if err := c.Set(name, v); err != nil {
				return &usageError{
					err:  fmt.Errorf("%s: %s: %w", cfg.path, name, err),
					hint: "fix the value in " + configFileName,
				}
			}
		}
	}
	return nil
}
