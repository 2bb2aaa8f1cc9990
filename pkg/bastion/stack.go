package bastion

// onFreshStack runs f on a short-lived goroutine and waits for it.
//
// A session's goroutines live as long as the session, and Go keeps a
// goroutine's stack at the largest size it has needed, halving it at a
// garbage collection only while the goroutine uses under a quarter of it.
// Starting a session calls the CA (through net/http) and makes the
// handshake with the target, which need deep stacks, but only once: run
// on a goroutine of their own, they leave the session's goroutine small
// (about 3 KiB less per idle session; see docs/benchmarks.md).
func onFreshStack(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}
