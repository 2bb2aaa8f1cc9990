package bastion

import (
	"errors"
	"syscall"

	"github.com/lockbox-ssh/lockbox/pkg/client"
)

// userMessage is what the user is told when the CA refuses or fails: the
// CA's own words for a refusal, and nothing internal otherwise.
func userMessage(err error) string {
	var ce *client.Error
	if errors.As(err, &ce) {
		if ce.Status >= 500 {
			return "the control plane cannot decide right now (" + ce.Code + "); nothing was opened, try again later"
		}
		return ce.Message
	}
	return "the control plane cannot be reached; nothing was opened, try again later"
}

// recordingTrouble says what went wrong writing a recording in words for
// the user and the sessions list; the error itself, with the spool's path,
// goes to the bastion's log.
func recordingTrouble(err error) string {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return "the bastion's recording disk is full"
	case errors.Is(err, syscall.EFBIG):
		return "the recording grew past the bastion's file size limit"
	case errors.Is(err, syscall.EROFS):
		return "the bastion's recording disk is read-only"
	}
	return "the bastion could not write it"
}
