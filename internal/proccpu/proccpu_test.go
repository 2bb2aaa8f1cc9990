package proccpu

import (
	"os"
	"testing"
	"time"
)

func TestReadCountsThisProcessesWork(t *testing.T) {
	before, _, err := Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Spin until the kernel has charged at least two clock ticks more.
	for deadline := time.Now().Add(10 * time.Second); ; {
		after, _, err := Read(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if after-before >= 20*time.Millisecond {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("CPU time went from %v to %v in 10 s of spinning", before, after)
		}
	}
}

func TestReadOfAProcessThatIsNotThereFails(t *testing.T) {
	if _, _, err := Read(1 << 30); err == nil {
		t.Fatal("no error for a process that does not exist")
	}
}
