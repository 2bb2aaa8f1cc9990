package bastion

import (
	"errors"

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
