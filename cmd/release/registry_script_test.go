package main

// Script commands that give a testscript an in-process registry
// (registry/registrytest) and content in it. Any script may use them:
//
//	registry [-auth USER:PASSWORD]
//	    starts the script's registry (once) and sets $REGISTRY to its
//	    host:port (plain HTTP on loopback, which release always allows).
//	    With -auth, every request needs those Basic credentials.
//	pushimage [-env VAR] [-seed N] [-platform OS/ARCH] [-docker] [-label K=V]... [-annotation K=V]... REPO:TAG [TAG...]
//	    pushes a small random image (Docker media types with -docker) with
//	    config labels and manifest annotations under the tags, prints its
//	    digest and sets $VAR to it. REPO is a path inside the registry.
//	pushindex [-env VAR] [-annotation K=V]... [-provenance REV] REPO:TAG DIGEST...
//	    pushes an index of images pushed before (by digest); -provenance
//	    adds a BuildKit SLSA v0.2 attestation with vcs.revision REV for
//	    each of them.
//	tagimage REPO:TAG DIGEST
//	    adds a tag to an image pushed before.

import (
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/releasetool/release/registry/registrytest"
)

// scriptRegistryKey is the testscript.Env value under which a script keeps
// its registry state.
type scriptRegistryKey struct{}

// scriptRegistry is one script's registry and what was pushed to it.
type scriptRegistry struct {
	t      testing.TB
	server *registrytest.Server
	images map[string]*registrytest.Image
	seed   uint64
}

// setupRegistry prepares the state the registry commands share; the
// registry itself starts with the `registry` command.
func setupRegistry(e *testscript.Env) {
	t, ok := e.T().(testing.TB)
	if !ok {
		return // not run by testscript.Run: the commands fail with a message
	}
	e.Values[scriptRegistryKey{}] = &scriptRegistry{t: t, images: map[string]*registrytest.Image{}}
}

func registryCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"registry":  cmdRegistry,
		"pushimage": cmdPushImage,
		"pushindex": cmdPushIndex,
		"tagimage":  cmdTagImage,
	}
}

func scriptState(ts *testscript.TestScript, needServer bool) *scriptRegistry {
	st, _ := ts.Value(scriptRegistryKey{}).(*scriptRegistry)
	if st == nil {
		ts.Fatalf("no registry state: the script was not set up by setupRegistry")
	}
	if needServer && st.server == nil {
		ts.Fatalf("no registry: run the registry command first")
	}
	return st
}

// scriptKV collects repeated K=V flags.
type scriptKV map[string]string

func (f scriptKV) String() string { return fmt.Sprint(map[string]string(f)) }
func (f scriptKV) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("%q is not K=V", s)
	}
	f[k] = v
	return nil
}

func cmdRegistry(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! registry")
	}
	fs := flag.NewFlagSet("registry", flag.ContinueOnError)
	auth := fs.String("auth", "", "USER:PASSWORD Basic credentials every request needs")
	ts.Check(fs.Parse(args))
	st := scriptState(ts, false)
	if st.server != nil {
		ts.Fatalf("registry already started")
	}
	var opts []registrytest.Option
	if *auth != "" {
		user, password, ok := strings.Cut(*auth, ":")
		if !ok {
			ts.Fatalf("-auth wants USER:PASSWORD")
		}
		opts = append(opts, registrytest.WithBasicAuth(user, password))
	}
	st.server = registrytest.New(st.t, opts...)
	ts.Setenv("REGISTRY", st.server.Host)
}

// splitRepoTag splits "repo:tag".
func splitRepoTag(ts *testscript.TestScript, ref string) (string, string) {
	i := strings.LastIndexByte(ref, ':')
	if i < 0 || strings.Contains(ref[i:], "/") {
		ts.Fatalf("%q: want REPO:TAG", ref)
	}
	return ref[:i], ref[i+1:]
}

func cmdPushImage(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! pushimage")
	}
	st := scriptState(ts, true)
	fs := flag.NewFlagSet("pushimage", flag.ContinueOnError)
	env := fs.String("env", "", "set `VAR` to the digest")
	seed := fs.Uint64("seed", 0, "content seed (default: a new one per image)")
	platform := fs.String("platform", "", "OS/ARCH of the config")
	docker := fs.Bool("docker", false, "Docker media types")
	labels, annotations := scriptKV{}, scriptKV{}
	fs.Var(labels, "label", "config label K=V")
	fs.Var(annotations, "annotation", "manifest annotation K=V")
	ts.Check(fs.Parse(args))
	if fs.NArg() < 1 {
		ts.Fatalf("usage: pushimage [flags] REPO:TAG [TAG...]")
	}
	if *seed == 0 {
		st.seed++
		*seed = 1000 + st.seed
	}
	img := registrytest.NewImage(registrytest.ImageSpec{
		Seed: *seed, Layers: 1, LayerSize: 64, Docker: *docker, Platform: *platform,
		Labels: labels, Annotations: annotations,
	})
	repo, tag := splitRepoTag(ts, fs.Arg(0))
	st.server.PushImage(st.t, repo, tag, img)
	for _, t := range fs.Args()[1:] {
		st.server.PushImage(st.t, repo, t, img)
	}
	st.images[img.Digest] = img
	if *env != "" {
		ts.Setenv(*env, img.Digest)
	}
	fmt.Fprintln(ts.Stdout(), img.Digest)
}

func cmdPushIndex(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! pushindex")
	}
	st := scriptState(ts, true)
	fs := flag.NewFlagSet("pushindex", flag.ContinueOnError)
	env := fs.String("env", "", "set `VAR` to the digest")
	provenance := fs.String("provenance", "", "add BuildKit provenance with vcs.revision `REV`")
	annotations := scriptKV{}
	fs.Var(annotations, "annotation", "index annotation K=V")
	ts.Check(fs.Parse(args))
	if fs.NArg() < 2 {
		ts.Fatalf("usage: pushindex [flags] REPO:TAG DIGEST...")
	}
	spec := registrytest.IndexSpec{Annotations: annotations, Provenance: map[string][]byte{}}
	for _, d := range fs.Args()[1:] {
		img, ok := st.images[d]
		if !ok {
			ts.Fatalf("no image %s was pushed by this script", d)
		}
		spec.Images = append(spec.Images, img)
		if *provenance != "" {
			spec.Provenance[d] = registrytest.Statement(d, "https://slsa.dev/provenance/v0.2", map[string]any{
				"metadata": map[string]any{"https://mobyproject.org/buildkit@v1#metadata": map[string]any{
					"vcs": map[string]any{"revision": *provenance, "source": "https://git.example.com/team/app"},
				}},
			})
		}
	}
	idx := registrytest.NewIndexOf(spec)
	repo, tag := splitRepoTag(ts, fs.Arg(0))
	st.server.PushIndex(st.t, repo, tag, idx)
	if *env != "" {
		ts.Setenv(*env, idx.Digest)
	}
	fmt.Fprintln(ts.Stdout(), idx.Digest)
}

func cmdTagImage(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: tagimage REPO:TAG DIGEST")
	}
	st := scriptState(ts, true)
	img, ok := st.images[args[1]]
	if !ok {
		ts.Fatalf("no image %s was pushed by this script", args[1])
	}
	repo, tag := splitRepoTag(ts, args[0])
	st.server.PushImage(st.t, repo, tag, img)
}
