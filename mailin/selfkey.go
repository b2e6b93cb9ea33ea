package mailin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// How desk recognises its own mail when a copy comes back to the support
// mailbox (a Cc to the support address, a forward or list loop): by what
// only the holder of the install's secret key can make, not by the form of
// a Message-ID or a header any sender can copy.
//
//   - The Message-IDs desk makes carry a tag in their local part:
//     "<local>.<tag>@<domain>", tag = MessageIDTag(key, local) (16 lower-case
//     hex digits of an HMAC-SHA256). SignMessageID and NewMessageID make
//     them, ValidMessageID checks them.
//   - compose signs every mail it sends in an X-Desk-Sig header: an HMAC
//     of the Message-ID and the text of the body. A Message-ID is no
//     secret (every requester has seen one in an acknowledgement), so the
//     signature is what keeps a sender from reusing one to make a mail of
//     their own vanish as "ours".
//
// A copy of our own mail needs both; mail that only looks like ours is
// registered like any other, never answered, and logged (see ownMail).

// SelfKeyFile is the key's file name in the data directory.
const SelfKeyFile = "mail-key"

const (
	selfKeyLen = 32
	tagHexLen  = 16 // hex digits of the Message-ID tag (64 bits)
	sigHexLen  = 32 // hex digits of the body signature (128 bits)
	// SigHeader carries compose's signature of a mail's Message-ID and body.
	SigHeader = "X-Desk-Sig"
)

// LoadSelfKey reads the install's mail key from dataDir/mail-key (64 hex
// digits), creating it with 32 random bytes, mode 0600, when there is none.
// A key file others may read, or one that does not hold a key, is an
// error that says how to fix it: the key is never silently replaced (a
// new key makes copies of mail sent before look like someone else's).
func LoadSelfKey(dataDir string) ([]byte, error) {
	if dataDir == "" {
		return nil, errors.New("mailin: LoadSelfKey needs the data directory")
	}
	path := filepath.Join(dataDir, SelfKeyFile)
	key, err := readSelfKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create the mail key %s: %w", path, err)
	}
	key = make([]byte, selfKeyLen)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("create the mail key %s: %w", path, err)
	}
	// Written whole to a temporary file (CreateTemp makes it 0600) and
	// linked into place: a crash leaves no half key, and of two processes
	// creating it at once, one key wins and both use it.
	tmp, err := os.CreateTemp(dataDir, ".mail-key-*")
	if err != nil {
		return nil, fmt.Errorf("create the mail key %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(hex.EncodeToString(key) + "\n")
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("write the mail key %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readSelfKey(path) // created meanwhile by another process
		}
		return nil, fmt.Errorf("create the mail key %s: %w", path, err)
	}
	if d, err := os.Open(dataDir); err == nil {
		d.Sync()
		d.Close()
	}
	return key, nil
}

func readSelfKey(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("the mail key %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("the mail key %s can be read by others (mode %04o): chmod 600 %s", path, perm, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the mail key: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != selfKeyLen {
		return nil, fmt.Errorf("the mail key %s does not hold %d hex digits: restore it from a backup, or remove it to have a new one made (copies of mail sent before are then registered as ordinary mail)", path, 2*selfKeyLen)
	}
	return key, nil
}

func mac(key []byte, parts ...string) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

// MessageIDTag is the tag desk puts after the local part of a Message-ID
// it makes: the first 16 hex digits (lower case) of
// HMAC-SHA256(key, "desk-msgid-v1" 0x00 lower(local) 0x00).
func MessageIDTag(key []byte, local string) string {
	return hex.EncodeToString(mac(key, "desk-msgid-v1", strings.ToLower(local)))[:tagHexLen]
}

// SignMessageID returns the local part of a Message-ID that carries its
// tag: local + "." + MessageIDTag(key, local). The store makes its ids so:
// fmt.Sprintf("%s@%s", SignMessageID(key, "sd-42.out7.3f9a1c2b7d4e"), domain).
func SignMessageID(key []byte, local string) string {
	return local + "." + MessageIDTag(key, local)
}

// NewMessageID makes a fresh tagged Message-ID (without angle brackets):
// "sd-<16 random hex digits>.<tag>@domain".
func NewMessageID(key []byte, domain string) string {
	var r [8]byte
	rand.Read(r[:])
	return SignMessageID(key, "sd-"+hex.EncodeToString(r[:])) + "@" + strings.ToLower(domain)
}

// ValidMessageID tells whether id (angle brackets optional) is one desk
// made with key: "<local>.<tag>@<domain>" with the right tag and, unless
// domain is empty, that domain.
func ValidMessageID(key []byte, id, domain string) bool {
	if len(key) == 0 {
		return false
	}
	id = strings.Trim(strings.TrimSpace(id), "<>")
	at := strings.LastIndexByte(id, '@')
	if at <= 0 || (domain != "" && !strings.EqualFold(id[at+1:], domain)) {
		return false
	}
	local := id[:at]
	dot := strings.LastIndexByte(local, '.')
	if dot <= 0 || len(local)-dot-1 != tagHexLen {
		return false
	}
	return hmac.Equal([]byte(strings.ToLower(local[dot+1:])), []byte(MessageIDTag(key, local[:dot])))
}

// bodySig is the X-Desk-Sig value for a mail: "v1 " and 32 hex digits of
// HMAC-SHA256(key, "desk-sig-v1", lower(Message-ID), sha256 of the body
// text with line ends, trailing white space and trailing blank lines
// normalised, as it reads back after transfer encoding).
func bodySig(key []byte, msgID, body string) string {
	sum := sha256.Sum256([]byte(canonicalBody(body)))
	id := strings.ToLower(strings.Trim(strings.TrimSpace(msgID), "<>"))
	return "v1 " + hex.EncodeToString(mac(key, "desk-sig-v1", id, hex.EncodeToString(sum[:])))[:sigHexLen]
}

func canonicalBody(s string) string {
	// A lone CR is a line end too: the quoted-printable writer makes it one.
	lines := strings.Split(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n")
}

// validSig checks an X-Desk-Sig value against the mail's Message-ID and
// body text.
func validSig(key []byte, sig, msgID, body string) bool {
	if len(key) == 0 || msgID == "" {
		return false
	}
	return hmac.Equal([]byte(strings.ToLower(strings.TrimSpace(sig))), []byte(bodySig(key, msgID, body)))
}

// ephemeralKey is the key of a service given none: its own mail is
// recognised while it runs; copies of mail sent before a restart are then
// registered as ordinary (automatic) mail.
func ephemeralKey() []byte {
	k := make([]byte, selfKeyLen)
	rand.Read(k)
	return k
}
