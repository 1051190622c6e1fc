#!/usr/bin/env python3
"""The expert draw's order, reimplemented from docs/draw.md alone (no Rust, no rand):
ChaCha20 (RFC 8439 block function, key = seed, 64-bit block counter from 0, nonce 0),
u64 = next 8 keystream bytes little-endian, rejection sampling, Fisher-Yates.
Checks the vector pinned in src/draw/mod.rs (r_eval_2_the_documented_vector)."""
import hashlib, struct
def rotl(x,n): return ((x<<n)|(x>>(32-n)))&0xffffffff
def qr(s,a,b,c,d):
    s[a]=(s[a]+s[b])&0xffffffff; s[d]=rotl(s[d]^s[a],16)
    s[c]=(s[c]+s[d])&0xffffffff; s[b]=rotl(s[b]^s[c],12)
    s[a]=(s[a]+s[b])&0xffffffff; s[d]=rotl(s[d]^s[a],8)
    s[c]=(s[c]+s[d])&0xffffffff; s[b]=rotl(s[b]^s[c],7)
def block(key,counter):
    st=[0x61707865,0x3320646e,0x79622d32,0x6b206574]+list(struct.unpack('<8I',key))+[counter&0xffffffff,counter>>32,0,0]
    w=st[:]
    for _ in range(10):
        qr(w,0,4,8,12);qr(w,1,5,9,13);qr(w,2,6,10,14);qr(w,3,7,11,15)
        qr(w,0,5,10,15);qr(w,1,6,11,12);qr(w,2,7,8,13);qr(w,3,4,9,14)
    return struct.pack('<16I',*[(a+b)&0xffffffff for a,b in zip(w,st)])
class Rng:
    def __init__(s,key): s.key=key; s.buf=b''; s.ctr=0
    def u64(s):
        while len(s.buf)<8: s.buf+=block(s.key,s.ctr); s.ctr+=1
        x=int.from_bytes(s.buf[:8],'little'); s.buf=s.buf[8:]; return x
def below(r,n):
    zone=(2**64//n)*n
    while True:
        x=r.u64()
        if x<zone: return x%n
head='3f'*32; nonce='7d41c0e2'
seed=hashlib.sha256((head+nonce).encode()).digest()
S=["it","construction","medical","finance"]
ids=sorted('e%02d'%(i+1) for i in range(36) if 'it' in (S[i%4],S[(i*3+1)%4]))
r=Rng(seed)
for i in range(len(ids)-1,0,-1):
    j=below(r,i+1); ids[i],ids[j]=ids[j],ids[i]
assert block(bytes(32), 0)[:16].hex() == "76b8e0ada0f13d90405d6ae55386bd28"  # RFC 8439 A.1
assert seed.hex() == "fe898830c46d464346343d21a3045d314afa9228e13ad198716258f8ce2645ad"
assert ids == ["e10", "e33", "e13", "e17", "e29", "e02", "e14", "e18", "e34", "e26", "e06",
               "e05", "e30", "e21", "e01", "e22", "e09", "e25"], ids
print("OK", seed.hex(), ids)
