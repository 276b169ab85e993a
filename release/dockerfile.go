package release

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ErrBaseUnresolved means the final stage's FROM names a variable that has no
// value at build-planning time (a platform argument of a multi-platform build,
// an ARG with neither default nor --build-arg). The base.name label is then
// left out rather than guessed.
var ErrBaseUnresolved = errors.New("base image of the final stage cannot be resolved")

// FinalBase returns the image reference the final stage of a Dockerfile
// builds on, as the org.opencontainers.image.base.name label wants it: the
// global ARGs (those before the first FROM) with their defaults, overridden by
// buildArgs, substituted (${VAR}, $VAR, ${VAR:-default}, ${VAR:+alt}); stage
// aliases followed (FROM build AS runtime, then FROM runtime → build's base);
// --platform and other flags skipped. A final stage on scratch gives "".
//
// The reference is kept as written after substitution (python:3.12-slim, not
// expanded to a fully-qualified name): expanding it would mean guessing the
// daemon's default registry, which release does not know.
//
// The parser follows the Dockerfile frontend where it matters for FROM and
// ARG: parser directives (only escape changes parsing), comments, line
// continuations (also across comment and blank lines), here-documents (whose
// bodies can hold lines that look like instructions), and the shell-word
// rules of ARG values and FROM arguments.
func FinalBase(dockerfile []byte, buildArgs map[string]string) (string, error) {
	instrs, err := parseDockerfile(dockerfile)
	if err != nil {
		return "", err
	}
	type stage struct{ name, base string }
	var (
		stages  []stage
		globals = map[string]string{} // declared global ARGs with a value
		lookup  = func(name string) (string, bool) {
			v, ok := globals[name]
			return v, ok
		}
	)
	// BuildKit defines the platform arguments in the global scope without
	// an ARG; the caller knows them only for a single-platform build.
	for _, name := range platformArgs {
		if v, ok := buildArgs[name]; ok {
			globals[name] = v
		}
	}
	for _, in := range instrs {
		switch in.cmd {
		case "arg":
			if len(stages) > 0 {
				continue // stage-local ARGs cannot reach a later FROM
			}
			words, err := splitWords(in.args, in.escape)
			if err != nil {
				return "", fmt.Errorf("line %d: ARG: %w", in.line, err)
			}
			if len(words) == 0 {
				return "", fmt.Errorf("line %d: ARG requires at least one argument", in.line)
			}
			for _, w := range words {
				name, def, hasDef := strings.Cut(w, "=")
				if !validArgName(name) {
					return "", fmt.Errorf("line %d: ARG: invalid name %q", in.line, name)
				}
				if v, ok := buildArgs[name]; ok {
					globals[name] = v
					continue
				}
				if !hasDef {
					delete(globals, name)
					continue
				}
				v, _, err := expandWord(def, in.escape, lookup)
				if err != nil {
					return "", fmt.Errorf("line %d: ARG %s: %w", in.line, name, err)
				}
				globals[name] = v
			}
		case "from":
			words, err := splitWords(in.args, in.escape)
			if err != nil {
				return "", fmt.Errorf("line %d: FROM: %w", in.line, err)
			}
			for len(words) > 0 && strings.HasPrefix(words[0], "--") {
				words = words[1:] // --platform=..., which BuildKit only accepts in --k=v form
			}
			var name string
			switch {
			case len(words) == 1:
			case len(words) == 3 && strings.EqualFold(words[1], "as"):
				name = strings.ToLower(words[2])
			default:
				return "", fmt.Errorf("line %d: FROM requires one image and an optional AS name", in.line)
			}
			image, unset, err := expandWord(words[0], in.escape, lookup)
			if err != nil {
				return "", fmt.Errorf("line %d: FROM: %w", in.line, err)
			}
			s := stage{name: name}
			if len(unset) > 0 {
				// Remember it: only the final stage's base matters, and an
				// intermediate stage may well depend on a platform argument.
				s.base = "\x00" + strings.Join(unset, ", ")
			} else if image == "" {
				return "", fmt.Errorf("line %d: FROM: the image reference is empty", in.line)
			} else {
				s.base = image
				for i := len(stages) - 1; i >= 0; i-- {
					if stages[i].name != "" && stages[i].name == strings.ToLower(image) {
						s.base = stages[i].base
						break
					}
				}
				if strings.EqualFold(s.base, "scratch") {
					s.base = ""
				}
			}
			stages = append(stages, s)
		}
	}
	if len(stages) == 0 {
		return "", errors.New("the Dockerfile has no FROM instruction")
	}
	base := stages[len(stages)-1].base
	if strings.HasPrefix(base, "\x00") {
		return "", fmt.Errorf("%w: %s has no value", ErrBaseUnresolved, base[1:])
	}
	return base, nil
}

// platformArgs are the arguments BuildKit predefines in the global scope.
var platformArgs = []string{
	"BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT",
	"TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
}

type instruction struct {
	line   int    // first physical line, 1-based
	cmd    string // lower case
	args   string // the rest of the logical line
	escape byte
}

var (
	directiveRE = regexp.MustCompile(`^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$`)
	heredocRE   = regexp.MustCompile(`(?:^|[^<])<<(-?)[ \t]*(["']?)([A-Za-z0-9_]+)(["']?)`)
)

// parseDockerfile splits a Dockerfile into logical instructions.
func parseDockerfile(src []byte) ([]instruction, error) {
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	var lines []string
	for sc.Scan() {
		lines = append(lines, strings.TrimSuffix(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the Dockerfile: %w", err)
	}
	escape := byte('\\')
	i := 0
	// Parser directives: only at the very top, before any blank line,
	// comment or instruction.
	for ; i < len(lines); i++ {
		m := directiveRE.FindStringSubmatch(lines[i])
		if m == nil {
			break
		}
		key := strings.ToLower(m[1])
		if key == "escape" {
			if m[2] != "\\" && m[2] != "`" {
				return nil, fmt.Errorf("line %d: invalid escape directive %q", i+1, m[2])
			}
			escape = m[2][0]
		} else if key != "syntax" && key != "check" {
			break // an unknown directive is a comment and ends the directives
		}
	}
	var out []instruction
	for i < len(lines) {
		line := lines[i]
		trimmed := strings.TrimLeft(line, " \t")
		if trimmed == "" || trimmed[0] == '#' {
			i++
			continue
		}
		start := i
		var b strings.Builder
		for {
			l := lines[i]
			i++
			cont := false
			if t := strings.TrimRight(l, " \t"); t != "" && t[len(t)-1] == escape {
				l, cont = t[:len(t)-1], true
			}
			b.WriteString(l)
			if !cont {
				break
			}
			// Comment and blank lines inside a continuation are dropped.
			for i < len(lines) {
				t := strings.TrimLeft(lines[i], " \t")
				if t == "" || t[0] == '#' {
					i++
					continue
				}
				break
			}
			if i >= len(lines) {
				break
			}
		}
		logical := strings.TrimLeft(b.String(), " \t")
		cmd, args := logical, ""
		if j := strings.IndexAny(logical, " \t\r\v\f"); j >= 0 {
			cmd, args = logical[:j], logical[j+1:]
		}
		in := instruction{line: start + 1, cmd: strings.ToLower(cmd), args: strings.TrimSpace(args), escape: escape}
		out = append(out, in)
		// Here-documents: their bodies are data, whatever they look like.
		switch in.cmd {
		case "run", "copy", "add":
			for _, m := range heredocRE.FindAllStringSubmatch(in.args, -1) {
				if m[2] != m[4] {
					continue
				}
				word, stripTabs := m[3], m[1] == "-"
				for i < len(lines) {
					l := lines[i]
					i++
					if stripTabs {
						l = strings.TrimLeft(l, "\t")
					}
					if l == word {
						break
					}
				}
			}
		}
	}
	return out, nil
}

// isDockerfileBlank reports the whitespace that separates words (\s of the
// Dockerfile frontend, without the newline that never reaches here).
func isDockerfileBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
}

func validArgName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// splitWords splits instruction arguments into words at unquoted,
// unescaped whitespace, keeping quotes and escapes for expandWord.
func splitWords(s string, escape byte) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		quote byte
		in    bool
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == 0 && isDockerfileBlank(c):
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
			continue
		case c == escape && quote != '\'' && i+1 < len(s):
			cur.WriteByte(c)
			i++
			c = s[i]
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case c == quote:
			quote = 0
		}
		cur.WriteByte(c)
		in = true
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}

// expandWord removes quotes and escapes from one word and substitutes
// variables. unset lists the variables that were referenced without a value
// and without a default to fall back on.
func expandWord(w string, escape byte, lookup func(string) (string, bool)) (string, []string, error) {
	x := expander{src: w, escape: escape, lookup: lookup}
	s, err := x.run(0)
	return s, x.unset, err
}

type expander struct {
	src    string
	pos    int
	escape byte
	lookup func(string) (string, bool)
	unset  []string
}

// run expands until the end of the source, or (stop != 0) until an unquoted
// stop byte, which it consumes.
func (x *expander) run(stop byte) (string, error) {
	var b strings.Builder
	var quote byte
	for x.pos < len(x.src) {
		c := x.src[x.pos]
		switch {
		case quote == 0 && stop != 0 && c == stop:
			x.pos++
			return b.String(), nil
		case c == x.escape && quote != '\'':
			x.pos++
			if x.pos >= len(x.src) {
				b.WriteByte(c)
				continue
			}
			n := x.src[x.pos]
			// Inside double quotes the escape only escapes what is special there.
			if quote == '"' && n != '"' && n != '$' && n != x.escape {
				b.WriteByte(c)
			}
			b.WriteByte(n)
			x.pos++
		case quote == 0 && (c == '\'' || c == '"'):
			quote = c
			x.pos++
		case c == quote:
			quote = 0
			x.pos++
		case c == '$' && quote != '\'':
			x.pos++
			v, err := x.variable()
			if err != nil {
				return "", err
			}
			b.WriteString(v)
		default:
			b.WriteByte(c)
			x.pos++
		}
	}
	if stop != 0 {
		return "", errors.New("missing '}' in variable substitution")
	}
	if quote != 0 {
		return "", fmt.Errorf("unterminated %c quote", quote)
	}
	return b.String(), nil
}

// variable expands what follows a '$' (already consumed).
func (x *expander) variable() (string, error) {
	if x.pos >= len(x.src) {
		return "$", nil
	}
	if x.src[x.pos] != '{' {
		name := x.name()
		if name == "" {
			return "$", nil // a lone $ stays literal
		}
		return x.value(name), nil
	}
	x.pos++
	name := x.name()
	if name == "" {
		return "", errors.New("bad substitution: missing variable name after ${")
	}
	if x.pos >= len(x.src) {
		return "", errors.New("missing '}' in variable substitution")
	}
	if x.src[x.pos] == '}' {
		x.pos++
		return x.value(name), nil
	}
	colon := false
	if x.src[x.pos] == ':' {
		colon = true
		x.pos++
		if x.pos >= len(x.src) {
			return "", errors.New("missing '}' in variable substitution")
		}
	}
	op := x.src[x.pos]
	if op != '-' && op != '+' {
		return "", fmt.Errorf("unsupported substitution modifier %q in ${%s}", op, name)
	}
	x.pos++
	word, err := x.run('}')
	if err != nil {
		return "", err
	}
	v, ok := x.lookup(name)
	set := ok && (!colon || v != "")
	switch op {
	case '-':
		if set {
			return v, nil
		}
		return word, nil
	default: // '+'
		if set {
			return word, nil
		}
		return "", nil
	}
}

func (x *expander) name() string {
	start := x.pos
	for x.pos < len(x.src) {
		c := x.src[x.pos]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' && x.pos > start {
			x.pos++
			continue
		}
		break
	}
	return x.src[start:x.pos]
}

func (x *expander) value(name string) string {
	v, ok := x.lookup(name)
	if !ok {
		x.unset = append(x.unset, name)
	}
	return v
}
