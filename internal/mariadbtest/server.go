package mariadbtest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/lockbox-ssh/lockbox/pkg/store/storetest"
)

// StartTimeout bounds how long Launch and Restart wait for the server to
// answer.
const StartTimeout = 30 * time.Second

// Options configure a Server; the zero value is fine.
type Options struct {
	// Args are extra mariadbd options, e.g. "--innodb-lock-wait-timeout=5".
	Args []string
}

// Server is a running private mariadbd. Addr and Port stay the same
// across Restart.
type Server struct {
	Addr string // 127.0.0.1:PORT
	Port int
	Dir  string // data/, the socket, pid file and error.log

	opts   Options
	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been reaped
}

// Start launches a server for the test and closes it when the test ends,
// printing its log if the test failed. A missing MariaDB skips the test,
// or fails it under LOCKBOX_REQUIRE_INTEGRATION=1.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	s, err := Launch(o)
	if errors.Is(err, ErrMissing) {
		storetest.MissingPeer(t, "%v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("private mariadbd (%s) log:\n%s", s.Addr, s.Log())
		}
		if err := s.Close(); err != nil {
			t.Errorf("mariadbtest: %v", err)
		}
	})
	return s
}

// Launch starts a server and returns once it answers queries.
func Launch(o Options) (*Server, error) {
	tmpl, err := template()
	if err != nil {
		return nil, err
	}
	// A short path of its own: a Unix socket's path may not exceed 108 bytes.
	dir, err := os.MkdirTemp("", "mariadbtest-")
	if err != nil {
		return nil, fmt.Errorf("mariadbtest: %w", err)
	}
	if err := os.CopyFS(filepath.Join(dir, "data"), os.DirFS(tmpl)); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("mariadbtest: copying the template: %w", err)
	}
	s := &Server{Dir: dir, opts: o}
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("mariadbtest: picking a port: %w", err)
		}
		s.Port, s.Addr = port, net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		err = s.start()
		if err == nil {
			return s, nil
		}
		if !errors.Is(err, errPortTaken) || attempt == 5 {
			log := s.Log()
			os.RemoveAll(dir)
			return nil, fmt.Errorf("%w\nmariadbd log:\n%s", err, log)
		}
	}
}

var errPortTaken = errors.New("mariadbtest: port already in use")

// start runs mariadbd on s.Port and waits until it answers.
func (s *Server) start() error {
	args := append([]string{"--no-defaults",
		"--datadir=" + filepath.Join(s.Dir, "data"),
		"--socket=" + filepath.Join(s.Dir, "mysqld.sock"),
		"--pid-file=" + filepath.Join(s.Dir, "mysqld.pid"),
		"--log-error=" + s.logPath(),
		"--bind-address=127.0.0.1",
		"--port=" + strconv.Itoa(s.Port),
	}, serverOptions...)
	if u := userOption(); u != "" {
		args = append(args, u)
	}
	args = append(args, s.opts.Args...)
	cmd := exec.Command(ServerPath, args...)
	// Killed with the test binary, so that no server outlives its test
	// (Linux ends it when the thread that started it ends; Go keeps its
	// threads unless a goroutine locked to one exits).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("mariadbtest: starting mariadbd: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait() //nolint:errcheck // killed on purpose; the log says why otherwise
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	if err := s.waitReady(exited); err != nil {
		syscall.Kill(cmd.Process.Pid, syscall.SIGKILL) //nolint:errcheck // already gone is fine
		<-exited
		if strings.Contains(s.Log(), "Address already in use") {
			return errPortTaken
		}
		return err
	}
	return nil
}

// waitReady polls the server with a query until it answers, it exits, or
// StartTimeout passes.
func (s *Server) waitReady(exited <-chan struct{}) error {
	db, err := sql.Open("mysql", s.DSN(""))
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(StartTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		var one int
		err := db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("mariadbtest: mariadbd exited while starting")
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mariadbtest: mariadbd did not answer on %s within %v: %w", s.Addr, StartTimeout, err)
		}
	}
}

// DSN is a go-sql-driver/mysql DSN for database (may be empty) as root.
func (s *Server) DSN(database string) string {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr, cfg.DBName = "root", "tcp", s.Addr, database
	return cfg.FormatDSN()
}

// CreateDatabase makes database name and returns its DSN.
func (s *Server) CreateDatabase(name string) (string, error) {
	db, err := sql.Open("mysql", s.DSN(""))
	if err != nil {
		return "", err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE `"+strings.ReplaceAll(name, "`", "``")+"`"); err != nil {
		return "", fmt.Errorf("mariadbtest: creating database %s: %w", name, err)
	}
	return s.DSN(name), nil
}

// Stop freezes the server (SIGSTOP): its connections stay open and
// nothing answers until Continue. It returns once every thread of the
// server has stopped: the signal is delivered asynchronously, and a
// thread still running could answer a call made right after.
func (s *Server) Stop() error {
	if err := s.signal(syscall.SIGSTOP); err != nil {
		return err
	}
	s.mu.Lock()
	pid := s.cmd.Process.Pid
	s.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for !allStopped(pid) {
		if time.Now().After(deadline) {
			return errors.New("mariadbtest: the server's threads did not all stop within 10s of SIGSTOP")
		}
		time.Sleep(time.Millisecond) // polling for a state, not standing in for it
	}
	return nil
}

// allStopped reports whether every thread of process pid is stopped
// (state T in /proc/PID/task/TID/stat).
func allStopped(pid int) bool {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, err := os.ReadDir(dir)
	if err != nil || len(tasks) == 0 {
		return false
	}
	for _, t := range tasks {
		stat, err := os.ReadFile(filepath.Join(dir, t.Name(), "stat"))
		if err != nil {
			return false
		}
		// pid (comm) state ...: comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 || i+2 >= len(stat) || (stat[i+2] != 'T' && stat[i+2] != 't') {
			return false
		}
	}
	return true
}

// Continue thaws a stopped server (SIGCONT).
func (s *Server) Continue() error { return s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return errors.New("mariadbtest: server not running")
	}
	select {
	case <-s.exited:
		return errors.New("mariadbtest: server not running")
	default:
	}
	if err := syscall.Kill(s.cmd.Process.Pid, sig); err != nil {
		return fmt.Errorf("mariadbtest: %v: %w", sig, err)
	}
	return nil
}

// Kill ends the server at once (SIGKILL), as a crash would, and waits
// until it is gone. Killing a server that is not running does nothing.
func (s *Server) Kill() error {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil {
		return nil
	}
	syscall.Kill(cmd.Process.Pid, syscall.SIGKILL) //nolint:errcheck // already gone is fine
	select {
	case <-exited:
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("mariadbtest: mariadbd (pid %d) still there 30s after SIGKILL", cmd.Process.Pid)
	}
}

// Shutdown stops the server the orderly way (SIGTERM), as an operator's
// restart does, and waits until it is gone. Restart starts it again.
func (s *Server) Shutdown() error {
	if err := s.signal(syscall.SIGTERM); err != nil {
		return err
	}
	s.mu.Lock()
	exited := s.exited
	s.mu.Unlock()
	select {
	case <-exited:
		return nil
	case <-time.After(StartTimeout):
		return fmt.Errorf("mariadbtest: mariadbd still running %v after SIGTERM", StartTimeout)
	}
}

// Restart kills the server if it runs (frozen or not) and starts it again
// on the same port and data directory, returning once it answers; InnoDB
// recovers what was committed.
func (s *Server) Restart() error {
	if err := s.Kill(); err != nil {
		return err
	}
	deadline := time.Now().Add(StartTimeout)
	for {
		err := s.start()
		// The port was free a moment ago; a connection of the old server
		// may hold it briefly.
		if !errors.Is(err, errPortTaken) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Close kills the server and removes its directory.
func (s *Server) Close() error {
	err := s.Kill()
	return errors.Join(err, os.RemoveAll(s.Dir))
}

// Log returns the server's error log so far.
func (s *Server) Log() string {
	b, err := os.ReadFile(s.logPath())
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	return string(b)
}

func (s *Server) logPath() string { return filepath.Join(s.Dir, "error.log") }

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
