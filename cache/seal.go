package cache

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
)

// sealer encrypts cached bodies with AES-GCM. The associated data is the
// raw key digest, so a sealed body only opens under the key (and namespace)
// it was stored for: entries cannot be swapped in a shared store.
type sealer struct {
	aead cipher.AEAD
}

func newSealer(key []byte) (*sealer, error) {
	switch len(key) {
	case 16, 24, 32:
	default:
		return nil, fmt.Errorf("cache: encryption key has %d bytes; AES-GCM needs 16, 24 or 32", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("cache: encryption key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("cache: encryption key: %w", err)
	}
	return &sealer{aead: aead}, nil
}

// seal returns nonce || ciphertext of body.
func (s *sealer) seal(body, ad []byte) []byte {
	ns := s.aead.NonceSize()
	out := make([]byte, ns, ns+len(body)+s.aead.Overhead())
	_, _ = rand.Read(out) // crypto/rand.Read never fails
	return s.aead.Seal(out, out[:ns], body, ad)
}

// open appends the plaintext of sealed to dst.
func (s *sealer) open(dst, sealed, ad []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	if len(sealed) < ns+s.aead.Overhead() {
		return nil, fmt.Errorf("cache: sealed body of %d bytes is too short", len(sealed))
	}
	return s.aead.Open(dst, sealed[:ns], sealed[ns:], ad)
}
