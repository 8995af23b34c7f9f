package propagation

const hexDigits = "0123456789abcdef"

// hexVal maps an ASCII byte to its hex value; 0xff marks a non-hex byte.
// hexValLower accepts only lower-case digits, as W3C Trace Context and B3
// require.
var hexVal, hexValLower = func() (all, lower [256]byte) {
	for i := range all {
		all[i], lower[i] = 0xff, 0xff
	}
	for c := byte('0'); c <= '9'; c++ {
		all[c], lower[c] = c-'0', c-'0'
	}
	for c := byte('a'); c <= 'f'; c++ {
		all[c], lower[c] = c-'a'+10, c-'a'+10
		all[c-'a'+'A'] = c - 'a' + 10
	}
	return all, lower
}()

// decodeHex decodes len(dst)*2 hex digits from s using table.
func decodeHex(dst []byte, s string, table *[256]byte) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for i := range dst {
		hi, lo := table[s[2*i]], table[s[2*i+1]]
		if hi > 15 || lo > 15 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

// decodeHexPadded decodes up to 2*len(dst) hex digits from s into dst,
// right-aligned (left-padded with zeros). An empty s is invalid.
func decodeHexPadded(dst []byte, s string, table *[256]byte) bool {
	if len(s) == 0 || len(s) > 2*len(dst) {
		return false
	}
	clear(dst)
	// Walk from the right, two digits a byte.
	j := len(dst) - 1
	for i := len(s); i > 0; i -= 2 {
		lo := table[s[i-1]]
		if lo > 15 {
			return false
		}
		var hi byte
		if i >= 2 {
			hi = table[s[i-2]]
			if hi > 15 {
				return false
			}
		}
		dst[j] = hi<<4 | lo
		j--
	}
	return true
}

func appendHex(dst []byte, src []byte) []byte {
	for _, b := range src {
		dst = append(dst, hexDigits[b>>4], hexDigits[b&0x0f])
	}
	return dst
}
