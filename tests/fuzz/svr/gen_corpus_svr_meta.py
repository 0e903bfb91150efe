#!/usr/bin/env python3
# Writes the seed corpus of fuzz_svr_meta: the profile's vectors, a block with every TLV,
# edge cases and truncations. Run it by hand; the fuzzer's finds never land here.
import os, struct
d = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'corpus', 'fuzz_svr_meta')
H = bytes.fromhex
COOKIE = H('4c48dbc6ddf6670c')
def tlv(t, v): return struct.pack('>HH', t, len(v)) + v
def block(hdr=b'', pay=b''): return COOKIE + struct.pack('>HH', 0x1000 | (12 + len(hdr)), len(pay)) + hdr + pay
def hx(s): return H(s.replace(' ', '').replace('\n', ''))
files = {
 'tv1-forward': hx('4c48dbc6ddf6670c 1014 003d 0010 0004 00000001 0002 000d 0a00010a 0a000214 c350 01bb 06 0007 0004 626c7565 000a 0003 776562 0006 0010 3f2504e04f8941d39a0c0305e82c3301 000e 0005 7274722d61'),
 'tv2-reverse': hx('4c48dbc6ddf6670c 100c 0015 0004 000d 0a000214 0a00010a 01bb c350 06 0012 0000'),
 'tv3-empty': hx('4c48dbc6ddf6670c 100c 0000'),
 'tv4-path-metrics': hx('4c48dbc6ddf6670c 101a 0000 001a 000a 10000064 200000c8 800a'),
 'tv5-fragment': hx('4c48dbc6ddf6670c 101a 0000 0001 000a 00000001 1234 20b9 05dc'),
 'tv6-forward-v6': block(pay=hx('0003 0025 20010db8000100000000000000000010 20010db8000200000000000000000020 c350 01bb 06')),
 'tv7-keepalive': hx('4c48dbc6ddf6670c 1011 0000 0018 0001 01'),
 'tv9-dup-seq': hx('4c48dbc6ddf6670c 1018 0000 8003 0008 01000000 01020304'),
 'tv8-udp-payload': hx('4c48dbc6ddf6670c 100c 0034 0002 000d 0a00010a 0a000235 9c40 0035 11 0007 0004 626c7565 000a 0003 646e73 0006 0010 3f2504e04f8941d39a0c0305e82c3301 abcd0100000100000000000007 6578616d706c65 03 636f6d 00 0001 0001'),
}
hdr = (tlv(16, H('00000002')) + tlv(1, H('deadbeef43215fff2328')) + tlv(24, H('06'))
       + tlv(26, H('ffffffff0fffffff7fff')) + tlv(21, H('20010db8000000000000000000000001')) + tlv(46, H('02')))
pay = (tlv(2, H('0a00010a0a000214c35001bb06')) + tlv(5, H('20010db8000200000000000000000020 20010db8000100000000000000000010 01bbc350 06'.replace(' ', '')))
       + tlv(7, b'blue') + tlv(10, b'web') + tlv(6, bytes(range(16))) + tlv(14, b'rtr-a') + tlv(17, b'rtr-b')
       + tlv(15, b'aes') + tlv(19, b'wan1-to-wan2') + tlv(35, b'office365') + tlv(42, H('0000076c'))
       + tlv(11, b'') + tlv(12, b'') + tlv(18, b'') + tlv(50, H('0480 0a00010a ef010203 11'.replace(' ', '')))
       + tlv(51, H('0003 05') + b'rtr-b' + H('00 05') + b'rtr-c'))
files['all-tlvs'] = block(hdr, pay)
files['all-tlvs-mcast-v6'] = block(tlv(20, H('c0000201')), tlv(50, H('0600') + H('20010db8000100000000000000000010') + H('ff050000000000000000000000010003') + H('11')))
files['unknown-tlvs'] = block(tlv(0, b'') + tlv(0x8000, H('010203')), tlv(8, H('abcd')) + tlv(7, b'blue') + tlv(0xffff, H('0102030405')))
files['empty-strings'] = block(b'', tlv(7, b'') + tlv(10, b'') + tlv(51, H('0000')))
files['bad-version'] = hx('4c48dbc6ddf6670c 200c 0000')
files['bad-header-length'] = hx('4c48dbc6ddf6670c 100b 0000')
files['duplicate'] = block(b'', tlv(7, b'a') + tlv(7, b'b'))
files['wrong-section'] = block(tlv(7, b'blue'), b'')
files['cookie-only'] = COOKIE
files['dup-seq-with-forward'] = block(tlv(0x8003, H('0000000000000001')), tlv(2, H('0a00010a0a000214c35001bb06')) + tlv(6, bytes(range(16))))
files['dup-seq-bad-leg'] = block(tlv(0x8003, H('0200000000000001')), b'')
tv1 = files['tv1-forward']
for n in (11, 12, 20, 40, 80):
    files['tv1-cut-%d' % n] = tv1[:n]
for name, data in files.items():
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)
print(len(files), 'files')
