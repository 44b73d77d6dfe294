"""Camera Raw / Lightroom XMP sidecars (``crs:`` namespace): write from a slider plan, read back.

The global edit becomes the Basic panel's sliders (``crs:Exposure2012`` …, values from
:mod:`.camera_raw`). Each region becomes one Lightroom mask group
(``crs:MaskGroupBasedCorrections``, Lightroom Classic 11+ / Camera Raw 14+) holding the
region's local sliders. An XMP cannot carry a mask's pixels: Lightroom's image masks
(``crs:What="Mask/Image"``) name an AI selection that Lightroom computes itself from
the photo (``crs:MaskSubType`` 1 Select Subject, 2 Select Sky), the bitmap living in
its catalogue. So a region labelled as the sky or a person becomes such a mask —
Lightroom's own selection of it, not PerTouch's mask — and a region with any other
label cannot be expressed; it is left out and named in ``pertouch:NotExpressed`` (and
by ``pertouch export``). PerTouch's own mask path stays in ``pertouch:MaskFile``.

>>> text = xmp_text({"Exposure2012": 0.5}, [], ["an example"])
>>> read_settings(text)["Exposure2012"]
0.5
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "crs": "http://ns.adobe.com/camera-raw-settings/1.0/",
    "pertouch": "https://pertouch.invalid/ns/sidecar/1.0/",
}
#: Camera Raw's settings version and Process Version 5 (2018+), whose sliders these are.
CRS_VERSION = "15.0"
PROCESS_VERSION = "11.0"

#: Region labels Lightroom can select by itself → (MaskSubType, mask name).
AI_MASKS: dict[str, tuple[str, str]] = {
    "sky": ("2", "Sky"),
    **{w: ("1", "Subject") for w in ("person", "people", "subject", "portrait", "face", "man", "woman", "child",
                                     "body", "human")},
}


@dataclass
class MaskGroup:
    """One region's Lightroom mask group."""

    name: str
    label: str
    values: dict[str, float]  # local crs tag → stored value (±1 scale)
    subtype: str
    mask_name: str
    reference: tuple[float, float] = (0.5, 0.5)  # the mask's centroid, x y in [0, 1]
    mask_file: str | None = None
    notes: list[str] = field(default_factory=list)


def _num(tag: str, v: float) -> str:
    if tag.startswith("Local"):
        return f"{v:.6f}"
    if tag == "Exposure2012":
        return f"{v:+.2f}"
    return f"{int(round(v)):+d}" if round(v) else "0"


def _sync_id(*parts: str) -> str:
    return hashlib.md5("\x1f".join(parts).encode()).hexdigest().upper()


def _group_xml(g: MaskGroup, indent: str) -> str:
    corr = {"crs:What": "Correction", "crs:CorrectionAmount": "1", "crs:CorrectionActive": "true",
            "crs:CorrectionName": g.name, "crs:CorrectionSyncID": _sync_id("correction", g.name)}
    corr.update({f"crs:{k}": _num(k, v) for k, v in g.values.items()})
    mask = {"crs:What": "Mask/Image", "crs:MaskActive": "true", "crs:MaskName": g.mask_name,
            "crs:MaskBlendMode": "0", "crs:MaskInverted": "false", "crs:MaskSyncID": _sync_id("mask", g.name),
            "crs:MaskValue": "1", "crs:MaskVersion": "1", "crs:MaskSubType": g.subtype,
            "crs:ReferencePoint": f"{g.reference[0]:.6f} {g.reference[1]:.6f}"}
    if g.mask_file:
        mask["pertouch:MaskFile"] = g.mask_file
    i2 = indent + " "
    attrs = "".join(f"\n{i2}  {k}={quoteattr(v)}" for k, v in corr.items())
    mattrs = "".join(f"\n{i2}     {k}={quoteattr(v)}" for k, v in mask.items())
    return (f"{indent}<rdf:li>\n{i2}<rdf:Description{attrs}>\n{i2} <crs:CorrectionMasks>\n{i2}  <rdf:Seq>\n"
            f"{i2}   <rdf:li{mattrs}/>\n{i2}  </rdf:Seq>\n{i2} </crs:CorrectionMasks>\n{i2}</rdf:Description>\n"
            f"{indent}</rdf:li>\n")


def xmp_text(settings: dict[str, float | str], groups: list[MaskGroup], not_expressed: list[str],
             about: dict[str, str] | None = None) -> str:
    """A standalone XMP sidecar packet: ``settings`` are global crs tags (UI units)."""
    attrs = {"crs:Version": CRS_VERSION, "crs:ProcessVersion": PROCESS_VERSION, "crs:HasSettings": "True"}
    for tag, v in settings.items():
        attrs[f"crs:{tag}"] = v if isinstance(v, str) else _num(tag, v)
    for k, v in (about or {}).items():
        attrs[f"pertouch:{k}"] = v
    head = "".join(f"\n    {k}={quoteattr(v)}" for k, v in attrs.items())
    body = ""
    if groups:
        body += "   <crs:MaskGroupBasedCorrections>\n    <rdf:Seq>\n"
        body += "".join(_group_xml(g, "     ") for g in groups)
        body += "    </rdf:Seq>\n   </crs:MaskGroupBasedCorrections>\n"
    if not_expressed:
        body += "   <pertouch:NotExpressed>\n    <rdf:Bag>\n"
        body += "".join(f"     <rdf:li>{escape(n)}</rdf:li>\n" for n in not_expressed)
        body += "    </rdf:Bag>\n   </pertouch:NotExpressed>\n"
    ns = "".join(f"\n    xmlns:{p}={quoteattr(NS[p])}" for p in ("crs", "pertouch"))
    return (f'<x:xmpmeta xmlns:x="{NS["x"]}" x:xmptk="PerTouch">\n'
            f' <rdf:RDF xmlns:rdf="{NS["rdf"]}">\n'
            f'  <rdf:Description rdf:about=""{ns}{head}>\n{body}  </rdf:Description>\n'
            f" </rdf:RDF>\n</x:xmpmeta>\n")


def _tag(elem_name: str) -> str | None:
    prefix = "{" + NS["crs"] + "}"
    return elem_name[len(prefix):] if elem_name.startswith(prefix) else None


def read_settings(text: str, origin: str = "XMP") -> dict[str, float | str]:
    """The global ``crs:`` settings of an XMP sidecar or Camera Raw / Lightroom preset:
    tag → number (or text), from attributes or child elements of its top descriptions.
    Mask groups and other structures are skipped (see :func:`read_structures`)."""
    root = _parse(text, origin)
    out: dict[str, float | str] = {}
    for desc in root.iter("{" + NS["rdf"] + "}Description"):
        if _inside_structure(root, desc):
            continue
        items = list(desc.attrib.items()) + [(c.tag, c.text) for c in desc if len(c) == 0 and c.text]
        for name, value in items:
            tag = _tag(name)
            if tag is None:
                continue
            value = value.strip()
            try:
                out[tag] = float(value)
            except ValueError:
                out[tag] = value
    return out


def read_structures(text: str, origin: str = "XMP") -> list[str]:
    """Names of the crs structures (mask groups, gradients, curves…) the XMP holds."""
    root = _parse(text, origin)
    names = []
    for desc in root.iter("{" + NS["rdf"] + "}Description"):
        if not _inside_structure(root, desc):
            names += [t for t in (_tag(c.tag) for c in desc if len(c)) if t]
    return names


_XMP_HINT = "give a Camera Raw / Lightroom .xmp sidecar or preset"


def _parse(text: str, origin: str) -> ET.Element:
    from pertouch.core.errors import InputError

    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise InputError(f"{origin} is not XMP: {exc}", hint=_XMP_HINT) from None
    if not any(True for _ in root.iter("{" + NS["rdf"] + "}Description")):
        raise InputError(f"{origin} holds no rdf:Description", hint=_XMP_HINT)
    return root


def _inside_structure(root: ET.Element, desc: ET.Element) -> bool:
    """True for a description nested in a crs structure (a mask group's correction)."""
    parents = {c: p for p in root.iter() for c in p}
    p = parents.get(desc)
    while p is not None:
        if _tag(p.tag) is not None:
            return True
        p = parents.get(p)
    return False
