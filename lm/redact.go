package lm

import (
	"errors"
	"net/url"
	"strings"

	openai "github.com/sashabaranov/go-openai"
)

// redacted replaces every secret in provider error text.
const redacted = "[REDACTED]"

// redactor scrubs credentials (API keys, secret header values) from errors
// before they leave a provider. Its zero value redacts nothing.
type redactor struct {
	secrets []string
}

// newRedactor returns a redactor for the non-empty secrets.
func newRedactor(secrets ...string) *redactor {
	r := &redactor{}
	for _, s := range secrets {
		if s != "" {
			r.secrets = append(r.secrets, s)
		}
	}
	return r
}

// string returns s with every secret replaced.
func (r *redactor) string(s string) string {
	for _, secret := range r.secrets {
		s = strings.ReplaceAll(s, secret, redacted)
	}
	return s
}

// error returns err with every secret removed from its text. The error
// values of go-openai and net/url in its chain are scrubbed in place (they
// were created for this call and are owned by it), so even their own Error
// methods are safe; whatever text remains is wrapped so that the returned
// error's message is clean while errors.Is and errors.As still see the chain.
func (r *redactor) error(err error) error {
	if err == nil || len(r.secrets) == 0 {
		return err
	}
	r.scrub(err)
	msg := err.Error()
	if clean := r.string(msg); clean != msg {
		return &redactedError{msg: clean, err: err}
	}
	return err
}

// scrub removes secrets from the fields of known error types in err's tree.
func (r *redactor) scrub(err error) {
	for err != nil {
		switch e := err.(type) {
		case *openai.APIError:
			e.Message = r.string(e.Message)
			if e.Param != nil {
				p := r.string(*e.Param)
				e.Param = &p
			}
		case *openai.RequestError:
			e.Body = []byte(r.string(string(e.Body)))
		case *url.Error:
			e.URL = r.string(e.URL)
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, inner := range u.Unwrap() {
				r.scrub(inner)
			}
			return
		default:
			return
		}
	}
}

// redactedError is an error whose text had secrets removed.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// networkError is a transport failure that the caller's context did not
// cause, such as an http.Client timeout. Such timeouts match
// context.DeadlineExceeded, which IsRetryable treats as the caller giving
// up; networkError hides that identity from errors.Is (the request is worth
// retrying) while errors.As still reaches every error in the chain.
type networkError struct {
	err error
}

func (e *networkError) Error() string { return e.err.Error() }

// As lets errors.As see through the wrapper.
func (e *networkError) As(target any) bool { return errors.As(e.err, target) }

// Timeout reports whether the failure was a timeout.
func (e *networkError) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.As(e.err, &t) && t.Timeout()
}

// RedactURL returns s with its user information (a password, or a token
// given as the user name) masked, for printing a base URL:
// "http://user:pw@host/v1" prints as "http://xxxxx@host/v1". Text that does
// not parse as a URL but holds user information ("user:pw@host") has it
// masked too.
func RedactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.Opaque == "" {
		if u.User != nil {
			u.User = url.User("xxxxx")
		}
		return u.String()
	}
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		start := 0
		if i := strings.Index(s, "://"); i >= 0 && i < at {
			start = i + 3
		}
		return s[:start] + "xxxxx" + s[at:]
	}
	return s
}
