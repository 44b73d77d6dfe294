"""The phrase patterns the intent rules read (:mod:`pertouch.graph.vlm.builtin.intents`):
no-op phrases and approvals, undo phrases, late protection, hedges, complaints and
narrative context. Every pattern works on text normalised by
:func:`~pertouch.graph.vlm.builtin.tokens.normalize` (lowercase, "it's" → "it").
"""

from __future__ import annotations

import re

_OBJ = r"(?:it|this|that|the (?:photo|image|picture|pic|shot))"
#: What an undo acts on: the edits themselves, or the photo as it was.
_EDITS = (r"(?:changes?|edits?|editing|adjustments?|tweaks?|retouch(?:ing)?|effects?|filters?|modifications?|"
          r"steps?|versions?|whatever you did|what you did|everything you did)")
_WAS = (r"(?:(?:the |my |your )?(?:original|unedited|previous|last|earlier|first|old)\b|how it (?:was|looked)|"
        r"the way it (?:was|looked)|what it was|before\b|it (?:did|was|looked) (?:before|originally|at first)\b|"
        r"it (?:did|was|looked)(?=\s*(?:[,;:.!?]|$))|the (?:start|beginning)|scratch|normal\b|default\b)")
#: Verbs that undo whatever follows them in their clause ("undo the warmth", "revert to the original").
_UNDO_VERB = (r"undo|un do|revert|reverse|roll (?:it |that |this |everything )?back|rollback|go back|get (?:it|that) back|"
              r"switch back|change (?:it |that |this )?back|put (?:it |that |this |everything )?back|"
              r"take (?:it |that |this |those |these |everything )?back|set (?:it |this )?back|"
              r"start (?:over|again|afresh)|begin again|ctrl ?\+? ?z|cmd ?\+? ?z")
#: Verbs that undo when their object is the edits ("scrap that", "discard the changes") ...
_UNDO_OBJ_VERB = r"take away|take off|cancel|scrap|discard|drop|ditch|clear|remove|get rid of|delete|throw (?:away|out)|lose|kill|reset|reverse"
#: ... or the photo as it was ("bring back the original", "back to how it was").
_UNDO_BACK_VERB = (r"restore|bring back|give me back|get back|show me|give me|i (?:want|need|'d like|would like)|"
                   r"return to|back to|make it (?:like|as|look like)|(?:go|get|set it) back to")
_CLAUSE_END = r"(?=\s*(?:[,;:.!?]|$|\band then\b|\bthen\b|\binstead\b|\band (?=\w+ )|\bbut\b))"
_DET = r"(?:(?:all|every|each|any)\s+)?(?:of\s+)?(?:(?:the|my|your|those|these|that|this|all)\s+)?" \
       r"(?:(?:last|previous|recent|latest|earlier|other|first)\s+)?"
UNDO = (
    re.compile(rf"\b(?:{_UNDO_VERB})\b[^,;:.!?]*?{_CLAUSE_END}"),
    re.compile(rf"\b(?:reset|reverse)(?:\s+(?:it|everything|it all|all|please))?(?:\s+(?:back\s+)?to\s+{_WAS}[^,;:.!?]*?)?"
               rf"{_CLAUSE_END}"),
    re.compile(rf"\b(?:{_UNDO_OBJ_VERB})\s+{_DET}(?:{_EDITS}\b[^,;:.!?]*?|(?:that|it|this|everything|all|"
               r"the (?:photo|image|picture|pic|shot))"
               rf"(?:\s+(?:please|now|again))?){_CLAUSE_END}"),
    re.compile(rf"\b(?:{_UNDO_BACK_VERB})\s+(?:(?:it|this|that|everything|the (?:photo|image|picture))\s+(?:back\s+)?"
               rf"to\s+)?{_WAS}[^,;:.!?]*?{_CLAUSE_END}"),
    re.compile(rf"\bforget (?:about )?{_DET}{_EDITS}\b[^,;:.!?]*?{_CLAUSE_END}"),
)
#: Saying the earlier version was better is asking for it back ("I preferred the original").
UNDO_PREFER = re.compile(
    r"\b(?:i (?:preferred|prefer|liked|like|loved|love) (?:the original|it (?:better )?(?:before|the way it was)|"
    r"the (?:previous|old|earlier|first|unedited) (?:one|version|photo|image)?)|"
    r"(?:the original|it|that) (?:was|looked) (?:better|nicer)(?: before)?|"
    r"i (?:don't|dont|do not) like (?:the (?:change|changes|edit|edits|result|new version)|what you did))\b")
#: Remarks that go with an undo and say nothing else ("I changed my mind, undo it").
UNDO_REMARK = re.compile(r"\b(?:i (?:have |'ve )?changed my mind|on second thought|oops|whoops|my bad|"
                          r"that (?:looks |is |was )?(?:worse|wrong|awful|terrible|bad|too much|not (?:it|right))|"
                          r"(?:that|it) (?:went|goes) too far|actually)\b")
NOOP = (
    re.compile(r"\b(?:please\s+)?(?:don't|dont|do not|no need to|you don't need to|you dont need to|"
               r"you do not need to|there is no need to|never|(?:i |we )?(?:wouldn't|wouldnt|would not|won't|wont))\s+(?:change|edit|touch|alter|modify|adjust|retouch|"
               rf"do|fix)\s+(?:anything|a thing|a single thing|nothing|{_OBJ}|any of it|everything)"
               r"(?:\s+(?:at all|to it|whatsoever))?\b(?!\s+(?:too|much|more|except|but|apart|other|else|besides|"
               r"than|so|exc|to\b))"),
    re.compile(r"\b(?:leave|keep)\s+(?:it|this|that|everything|all|all of it|(?:the|this) (?:whole )?(?:photo|image|"
               r"picture|pic|shot|thing|one))(?:\s+(?:exactly\s+)?(?:alone|be|as (?:it )?is|as they are|unchanged|untouched|"
               r"the same|how it is|like it is|the way it is|like (?:that|this)|intact|as it was|"
               r"as (?:it was )?(?:shot|taken)|as it came out))?"
               r"(?=\s*(?:[.,;!?]|$|please\b|thanks?\b|thank you\b|i\b|it\b))"),
    re.compile(r"\b(?:please\s+)?(?:don't|dont|do not)\s+(?:change|edit|touch|alter|modify|retouch)(?:\s+(?:please|anything))?"
               r"(?=\s*(?:[,;.!]|$))"),
    re.compile(r"\bno (?:changes?|edits?|editing|adjustments?|retouching|touch ?ups?)(?:\s+(?:please|needed|necessary|"
               r"required|at all))?\b(?!\s+(?:to|on|in|for|except|but|apart)\b)"),
    re.compile(r"^\s*(?:no|nope|nah|nothing|none|no thanks?)\s*[.!]*\s*$"),
    re.compile(r"\b(?:i |we )?(?:don't|dont|do not) want (?:it |this |the (?:photo|image|picture) )?(?:edited|changed|"
               r"touched|retouched|altered|any (?:changes?|edits?|editing|adjustments?))\b"),
    re.compile(r"\b(?:do nothing|nothing to (?:change|do|fix|edit|improve)|nothing needs (?:changing|fixing|to change|"
               r"to be (?:changed|done|fixed))|(?:it |this )?(?:does not|doesn't|doesnt) need (?:anything|any "
               r"(?:changes?|edits?|editing|work)|changing|editing|to (?:change|be changed))|needs no "
               r"(?:changes?|editing|edits|work)|never ?mind|forget (?:about )?it|no thanks|no thank you|"
               r"leave as is|no need (?:for|of) (?:any )?(?:changes?|edits?|editing|adjustments?|retouching|work|touch ?ups?)|"
               r"(?:don't|dont|do not|no need to) bother(?: (?:editing|changing|retouching|with it))?)\b"),
)
_GOOD = (r"(?:perfect|fine|good|great|nice|lovely|beautiful|ok|okay|awesome|amazing|gorgeous|right|spot on|"
         r"good enough|stunning|excellent|wonderful|fantastic)")
_AS_IS = r"(?:\s+(?:just\s+|exactly\s+)?(?:already|as (?:it )?is|as they are|the way it is|like (?:this|that)|to me|enough|now|as it stands))*"
_END = r"(?=\s*(?:[.,;!?]|$|but\b|and\b|so\b|thanks?\b|thank you\b|please\b|i\b|don't\b|dont\b|do not\b|no\b|leave\b))"
#: Approvals said as a clause of their own: "it's perfect as it is", "looks great", "I like it as it is".
APPROVAL = re.compile(
    r"(^|[,.;!?]\s*|\b(?:and|but|because|since|so|as)\s+)(?:i think\s+|honestly\s+|tbh\s+)?"
    r"(?:(?:it|this|that)\s+(?:is\s+)?(?:already\s+|exactly\s+|just\s+)*(?:how|what|the way)\s+(?:i|we)\s+(?:want|like|wanted|"
    r"liked|need)(?:\s+it)?" + _AS_IS + r"|"
    r"(?:(?:it|its|this|that|everything|all|(?:the|this) (?:photo|image|picture|shot|pic|result|colou?rs|one))\s+"
    r"(?:is\s+|looks\s+|"
    r"seems\s+|feels\s+|are\s+)?|looks\s+)?(?:already\s+|really\s+|so\s+|very\s+|just\s+|pretty\s+|totally\s+|"
    rf"absolutely\s+|quite\s+)*{_GOOD}{_AS_IS}"
    rf"|(?:i|we)\s+(?:really\s+)?(?:like|love)\s+(?:it|this|the (?:photo|image|picture))(?:\s+already)?{_AS_IS}"
    r"|(?:i'm|im|i am)\s+(?:really\s+|quite\s+|very\s+)?(?:happy|fine|ok|okay|good|satisfied|content|pleased)\s+"
    r"with\s+(?:it|this|that|the (?:photo|image|picture|result|way it looks)|how it (?:looks|is)|the way it is)"
    r"(?:\s+already)?" + _AS_IS + r")" + _END)
_THING = r"(the (?:\w+ ){0,2}?\w+)"
#: Protection said after the region ("the faces should stay the same", "the sky must not change",
#: "the faces are fine, leave them"): rewritten as "leave … alone".
KEEP_LATE = (
    re.compile(rf"\b{_THING}\s+(?:(?:should|must|can|needs? to|has to|have to|will|shall|ought to)\s+)?"
               r"(?:stay|remain|be kept|be left|stays|remains)\s+(?:exactly\s+)?(?:the same|as (?:it|they) (?:is|are|was|were)|"
               r"as is|unchanged|untouched|alone|intact|natural|as it was|like (?:it is|that|this))\b"),
    re.compile(rf"\b{_THING}\s+(?:(?:must|should|can|shall|will|may)\s*(?:not|never)|shouldn't|mustn't|can't|cannot|"
               r"won't)\s+(?:change|be changed|be touched|be edited|be altered|get changed|get touched|move)\b"),
    re.compile(rf"\b{_THING}\s+(?:is|are|look|looks|seem|seems)\s+(?:already\s+)?(?:just\s+)?{_GOOD}\s*,?\s*"
               r"(?:so\s+)?(?:please\s+)?(?:just\s+)?(?:(?:leave|keep)\s+(?:it|them)(?:\s+(?:alone|as (?:it is|they are)|"
               r"that way|like (?:that|this)))?|(?:don't|dont|do not)\s+(?:change|touch|edit|alter|modify|mess with)\s+"
               r"(?:it|them))\b"),
)
HEDGE_WORDS = re.compile(r"\b(?:maybe|perhaps|possibly|if you can|if you could|if possible|if it is possible|if you like|"
                    r"if you want|if you think so|if you don't mind|if you dont mind|kinda|kind of|sort of|sorta|"
                    r"i guess|might want to|might be worth|might|(?:would|'d) be (?:nice|good|great|lovely)|could maybe|could be|probably|ideally|if it(?:'s| is)? not too "
                    r"much (?:trouble|work|hassle)|if (?:that|it)(?:'s| is)? (?:ok|okay|alright|possible|fine))\b")
#: Saying when and where the photo was taken is context, not a request ("I took this at the beach yesterday").
NARRATIVE = re.compile(r"(^|[,;:.!?]\s*)(?:so\s+|ok\s+|okay\s+|well\s+)?(?:(?:i|we|my \w+)\s+(?:took|shot|snapped|captured|"
                       r"photographed)\s+(?:this|it|that|these|the (?:photo|picture|image|shot|pic))|"
                       r"(?:this|it) was (?:taken|shot|captured|snapped))\b[^,;:.!?]*?"
                       r"(?=\s*(?:[,;:.!?]|$|\band\b|\bbut\b))")
#: A clause that says how the photo *is* ("the faces look pale", "the sky is washed out"): group 3 is
#: where :func:`~pertouch.graph.vlm.builtin.intents.complaints` puts "too", so it reads as "too pale".
STATE = re.compile(r"(^|[,;:.!?]\s*|\b(?:but|and|because|since|as|though)\s+)((?:i think\s+|honestly\s+|tbh\s+|i feel like\s+)?"
                   r"(?:(?:the (?:\w+ ){0,2}?\w+|this one|everything|they)\s+(?:is|are|looks?|seems?|appears?|feels?|"
                   r"came out|comes out|turned out)|(?:it|this|that|everything)(?:\s+(?:is|looks|seems|appears|feels|"
                   r"came out|turned out))?)\s+(?:(?:a bit|a little bit|a little|a tad|a touch|slightly|somewhat|quite|very|"
                   r"really|rather|pretty|way|overall|kind of|kinda|sort of|sorta|generally|all)\s+)*)"
                   r"(?!too\b|not\b|so\b|enough\b|more\b|less\b)(?=[a-z])")
#: A description the person keeps ("it's warm and cozy, keep that", "the snow is white, keep it that
#: way", "the water is blue enough"): not a complaint; a named region is protected (group 2).
KEPT_STATE = (
    re.compile(r"(^|[,;:.!?]\s*|\b(?:and|but)\s+)(?:(the (?:\w+ ){0,2}?\w+)\s+(?:is|are|looks?|seems?|feels?)|"
               r"(?:it|this|that|everything)(?:\s+(?:is|looks|seems|feels))?)\s+(?!not\b|too\b)[^,;:.!?]{1,40}?,?\s+"
               r"(?:so\s+)?(?:please\s+)?"
               r"(?:just\s+)?(?:(?:keep|leave)\s+(?:that|it|this|them)(?:\s+(?:that way|like that|as (?:it )?is|alone))?|"
               r"i\s+(?:really\s+)?(?:love|like)\s+(?:that|it|this|them))\b"),
    re.compile(r"(^|[,;:.!?]\s*|\b(?:and|but)\s+)(?:(the (?:\w+ ){0,2}?\w+)|it|this|that|everything)\s+"
               r"(?:is|are|looks?|seems?|feels?)\s+(?!not\b)(?:already\s+)?(?:\w+\s+){1,2}?enough\b(?!\s+(?:to|for)\b)"),
)
