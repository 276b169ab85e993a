package gitinfotest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSHKey is an Ed25519 key pair made for a test.
type SSHKey struct {
	private ed25519.PrivateKey
	signer  ssh.Signer
}

// NewSSHKey makes a key pair.
func NewSSHKey(t testing.TB) *SSHKey {
	t.Helper()
	_, private, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("gitinfotest: generating an SSH key: %v", err)
	}
	signer, err := ssh.NewSignerFromKey(private)
	if err != nil {
		t.Fatalf("gitinfotest: generating an SSH key: %v", err)
	}
	return &SSHKey{private: private, signer: signer}
}

// PublicKey is the key's public half.
func (k *SSHKey) PublicKey() ssh.PublicKey { return k.signer.PublicKey() }

// WriteFile writes the private key in OpenSSH's format to a new file
// (mode 0600, as ssh -i requires) and returns its path.
func (k *SSHKey) WriteFile(t testing.TB) string {
	t.Helper()
	block, err := ssh.MarshalPrivateKey(k.private, "gitinfotest")
	if err != nil {
		t.Fatalf("gitinfotest: encoding an SSH key: %v", err)
	}
	path := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatalf("gitinfotest: writing an SSH key: %v", err)
	}
	return path
}

// NewSSHAgent serves an SSH agent holding keys on a Unix socket until the
// test ends and returns the socket's path, for SSH_AUTH_SOCK.
func NewSSHAgent(t testing.TB, keys ...*SSHKey) string {
	t.Helper()
	keyring := agent.NewKeyring()
	for _, k := range keys {
		if err := keyring.Add(agent.AddedKey{PrivateKey: k.private}); err != nil {
			t.Fatalf("gitinfotest: adding a key to the agent: %v", err)
		}
	}
	// Socket paths are limited to about 100 bytes: t.TempDir() can be
	// longer for subtests with long names.
	dir, err := os.MkdirTemp("", "agent")
	if err != nil {
		t.Fatalf("gitinfotest: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatalf("gitinfotest: serving an SSH agent: %v", err)
	}
	// go-git never closes its agent connection: serve closes it when the test ends.
	serve(t, ln, func(conn net.Conn) {
		_ = agent.ServeAgent(keyring, conn) // ends when the connection closes
	})
	return sock
}

// SSHServer is a git SSH server on loopback, golang.org/x/crypto/ssh in
// process: it accepts the authorized public keys, and runs the
// git-upload-pack or git-receive-pack a session asks for on a repository
// under its root.
type SSHServer struct {
	// Addr is host:port on loopback.
	Addr string
	// KnownHosts is a known_hosts file naming the server's host key
	// (SSH_KNOWN_HOSTS for go-git, UserKnownHostsFile for ssh).
	KnownHosts string

	root     string
	mu       sync.Mutex
	commands []string
}

// NewSSHServer serves the repositories under root until the test ends.
// The path of an ssh:// URL is taken from root: ssh://git@<Addr>/app.git
// is root/app.git. Without git it skips the test, or fails it when CI is
// set (see InCI).
func NewSSHServer(t testing.TB, root string, authorized ...ssh.PublicKey) *SSHServer {
	t.Helper()
	gitBin := GitPath(t)
	hostKey := NewSSHKey(t)
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			for _, a := range authorized {
				if bytes.Equal(a.Marshal(), key.Marshal()) {
					return nil, nil
				}
			}
			return nil, errors.New("key not authorized")
		},
	}
	cfg.AddHostKey(hostKey.signer)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("gitinfotest: listening: %v", err)
	}
	s := &SSHServer{Addr: ln.Addr().String(), root: root}
	s.KnownHosts = filepath.Join(t.TempDir(), "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, hostKey.PublicKey()) + "\n"
	if err := os.WriteFile(s.KnownHosts, []byte(line), 0o644); err != nil {
		t.Fatalf("gitinfotest: writing known_hosts: %v", err)
	}

	serve(t, ln, func(conn net.Conn) { s.serve(conn, cfg, gitBin) })
	return s
}

// URL is the ssh:// URL of the repository at path under the server's root.
func (s *SSHServer) URL(path string) string {
	return "ssh://git@" + s.Addr + "/" + strings.TrimPrefix(filepath.ToSlash(path), "/")
}

// Commands lists the commands sessions ran, as the client sent them
// ("git-receive-pack '/app.git'").
func (s *SSHServer) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.commands...)
}

func (s *SSHServer) serve(conn net.Conn, cfg *ssh.ServerConfig, gitBin string) {
	defer conn.Close()
	_, chans, reqs, err := ssh.NewServerConn(conn, cfg)
	if err != nil {
		return // refused key, client gone
	}
	go ssh.DiscardRequests(reqs)
	var wg sync.WaitGroup
	defer wg.Wait()
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.session(ch, chReqs, gitBin)
		}()
	}
}

// session runs the first exec request of a session and reports its exit
// status.
func (s *SSHServer) session(ch ssh.Channel, reqs <-chan *ssh.Request, gitBin string) {
	defer ch.Close()
	for req := range reqs {
		if req.Type != "exec" {
			// env (GIT_PROTOCOL), pty-req, ...: not needed.
			_ = req.Reply(false, nil)
			continue
		}
		var payload struct{ Command string }
		if err := ssh.Unmarshal(req.Payload, &payload); err != nil {
			_ = req.Reply(false, nil)
			return
		}
		_ = req.Reply(true, nil)
		s.mu.Lock()
		s.commands = append(s.commands, payload.Command)
		s.mu.Unlock()
		status := s.run(ch, payload.Command, gitBin)
		_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
		return
	}
}

// run runs "git-upload-pack '<path>'" or "git-receive-pack '<path>'" with
// the channel as its standard streams.
func (s *SSHServer) run(ch ssh.Channel, command, gitBin string) uint32 {
	service, arg, _ := strings.Cut(command, " ")
	path := strings.Trim(arg, "'")
	dir := filepath.Join(s.root, filepath.FromSlash(path))
	if service != "git-upload-pack" && service != "git-receive-pack" || path == "" ||
		!strings.HasPrefix(dir, filepath.Clean(s.root)+string(filepath.Separator)) {
		fmt.Fprintf(ch.Stderr(), "gitinfotest: unsupported command %q\n", command)
		return 1
	}
	cmd := exec.Command(gitBin, strings.TrimPrefix(service, "git-"), dir)
	cmd.Env = GitEnv()
	cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
	// Not cmd.Stdin = ch: Wait would wait for the channel's end of input,
	// which the client sends only after the exit status.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return 1
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(ch.Stderr(), "gitinfotest: %v\n", err)
		return 1
	}
	go func() {
		_, _ = io.Copy(stdin, ch)
		stdin.Close()
	}()
	if err := cmd.Wait(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return uint32(exit.ExitCode())
		}
		return 1
	}
	return 0
}

// LocalSSHCommand writes a program to use as GIT_SSH_COMMAND or
// core.sshCommand that stands in for ssh and a server: instead of
// connecting anywhere it runs the command git asks the server for
// (git-receive-pack '<path>', git-upload-pack '<path>') on this machine,
// with the path taken from root, as NewSSHServer does: ssh://host/app.git
// and the scp-like host:app.git both name root/app.git. It returns the
// program and a log file to which each run appends its arguments as one
// line.
func LocalSSHCommand(t testing.TB, root string) (command, log string) {
	t.Helper()
	dir := t.TempDir()
	command, log = filepath.Join(dir, "ssh"), filepath.Join(dir, "ssh.log")
	script := `#!/bin/sh
# git probes the variant with -G: answer as OpenSSH does.
[ "$1" = "-G" ] && exit 0
printf '%s\n' "$*" >> ` + shellQuote(log) + `
for arg; do remote=$arg; done
# git-receive-pack '/app.git' -> git-receive-pack 'app.git', run in root.
remote=$(printf '%s' "$remote" | sed "s#'/*#'#")
cd ` + shellQuote(root) + ` || exit 1
exec sh -c "$remote"
`
	if err := os.WriteFile(command, []byte(script), 0o755); err != nil {
		t.Fatalf("gitinfotest: writing the ssh stand-in: %v", err)
	}
	return command, log
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// serve hands every connection ln accepts to handle, each in its own
// goroutine, until the test ends: then it closes the listener and every
// connection still open (clients that never close theirs included) and
// waits for the handlers.
func serve(t testing.TB, ln net.Listener, handle func(net.Conn)) {
	var (
		wg     sync.WaitGroup
		connMu sync.Mutex
		conns  []net.Conn
	)
	t.Cleanup(func() {
		ln.Close()
		connMu.Lock()
		for _, c := range conns {
			c.Close()
		}
		connMu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			connMu.Lock()
			conns = append(conns, conn)
			connMu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				handle(conn)
			}()
		}
	}()
}
