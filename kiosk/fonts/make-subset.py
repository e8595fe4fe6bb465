# Cuts face 2 (Noto Sans CJK SC) out of a Noto CJK collection, keeping the ranges
# README.md lists. Usage: make-subset.py SOURCE.ttc OUT.otf full|gb2312
import sys
from fontTools.ttLib import TTCollection
from fontTools import subset
src, out, scope = sys.argv[1], sys.argv[2], sys.argv[3]
font = TTCollection(src).fonts[2]  # Noto Sans CJK SC
cps = set(range(0x20, 0x7f)) | set(range(0xa0, 0x180)) | set(range(0x2000, 0x2070)) | set(range(0x2190, 0x2200)) \
    | set(range(0x2460, 0x24ff)) | set(range(0x25a0, 0x2600)) | set([0x2713, 0x2714, 0x2715, 0x2716, 0x2717, 0x2718]) \
    | set(range(0x3000, 0x3040)) | set(range(0xff00, 0xfff0))
if scope == 'gb2312':
    for b1 in range(0xb0, 0xf8):
        for b2 in range(0xa1, 0xff):
            try: cps.add(ord(bytes([b1, b2]).decode('gb2312')))
            except Exception: pass
else:
    cps |= set(range(0x4e00, 0xa000))
opts = subset.Options(); opts.layout_features = ['*']; opts.name_IDs = ['*']; opts.name_languages=['*']; opts.notdef_outline = True
opts.hinting = False
s = subset.Subsetter(opts); s.populate(unicodes=cps); s.subset(font)
font.save(out)
