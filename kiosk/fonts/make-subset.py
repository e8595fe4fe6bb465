# Cuts face 2 (Noto Sans CJK SC) out of a Noto CJK collection, keeping the ranges
# README.md lists. Usage: make-subset.py SOURCE.ttc OUT.otf full|gb2312
import sys
from fontTools.ttLib import TTCollection
from fontTools import subset


def add_format12(path):
    """Adds a format-12 (3,10) cmap. With every BMP ideograph, the format-4
    subtable passes 64 KiB and its 16-bit length wraps: readers that honour
    the length (ttf-parser, hence the door panel's ab_glyph) then miss 2,732
    ideographs. Format 12 has a 32-bit length."""
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.tables._c_m_a_p import CmapSubtable
    f = TTFont(path)
    cmap = f['cmap']
    if not any(t.format == 12 for t in cmap.tables):
        t = CmapSubtable.newSubtable(12)
        t.platformID, t.platEncID, t.language = 3, 10, 0
        t.cmap = dict(f.getBestCmap())
        cmap.tables.insert(0, t)
        f.save(path)


if sys.argv[1] == '--add-format12':  # fix an existing cut in place
    for p in sys.argv[2:]:
        add_format12(p)
    sys.exit(0)
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
add_format12(out)
