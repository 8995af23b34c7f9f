package export

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
)

// RejectedError reports an export the receiver accepted except for
// Rejected spans (an OTLP partial success). An Exporter returns it, alone,
// when that is the only thing that went wrong; the Batcher then counts
// Rejected spans of the batch (at most the batch) as DroppedRejected and
// the rest as Exported. A RejectedError with Rejected == 0 is a warning
// from the receiver: every span counts as exported.
type RejectedError struct {
	Rejected int64
	Message  string
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("flowtrace: collector rejected %d span(s): %q", e.Rejected, e.Message)
}

// partialSuccessText matches the text of the partial success errors that
// OpenTelemetry's own OTLP exporters (traces, metrics, logs) pass to the
// global error handler: "OTLP partial success: <msg> (<n> <items>
// rejected)". flowtrace's transport reads partial success as data from the
// response and never needs this.
var partialSuccessText = regexp.MustCompile(`(?s)^OTLP partial success: (.*) \((\d+) [a-z ]+ rejected\)$`)

// AsPartialSuccess reports whether err is made only of OTLP partial
// success errors: RejectedErrors, or the errors OpenTelemetry's exporters
// hand to the global error handler (recognised by their text, the only
// stable thing about them). It returns the largest rejected count among
// them and its message.
func AsPartialSuccess(err error) (rejected int64, message string, ok bool) {
	if err == nil {
		return 0, "", false
	}
	found := false
	var walk func(error) bool
	walk = func(e error) bool {
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, inner := range u.Unwrap() {
				if inner != nil && !walk(inner) {
					return false
				}
			}
			return true
		case interface{ Unwrap() error }:
			if inner := u.Unwrap(); inner != nil {
				return walk(inner)
			}
		}
		n, msg, ok := partialSuccessLeaf(e)
		if !ok {
			return false
		}
		if !found || n > rejected {
			rejected, message = n, msg
		}
		found = true
		return true
	}
	if !walk(err) || !found {
		return 0, "", false
	}
	return rejected, message, true
}

func partialSuccessLeaf(e error) (int64, string, bool) {
	var re *RejectedError
	if errors.As(e, &re) {
		return re.Rejected, re.Message, true
	}
	m := partialSuccessText.FindStringSubmatch(e.Error())
	if m == nil {
		return 0, "", false
	}
	n, err := strconv.ParseInt(m[2], 10, 64)
	if err != nil {
		return 0, "", false
	}
	msg := m[1]
	if msg == "empty message" {
		msg = ""
	}
	return n, msg, true
}
