"""One person from several photos: build, check, save and load a reusable identity.

``build_identity`` analyses each photo, keeps its largest face and refuses a photo whose face is not
the same person as the others; ``save_identity`` / ``load_identity`` write and read the plain-data
file (``fileformat``); ``source_photos`` turns whatever a swap was given as its source (a photo, an
identity file, a list of photos) into the faces an engine prepares.
"""

from frameswap.identity.build import build_identity, same_person_check
from frameswap.identity.fileformat import is_identity_file, load_identity, save_identity
from frameswap.identity.model import Identity, IdentityPhoto
from frameswap.identity.source import SourcePhotos, source_photos

__all__ = [
    "Identity",
    "IdentityPhoto",
    "SourcePhotos",
    "build_identity",
    "is_identity_file",
    "load_identity",
    "same_person_check",
    "save_identity",
    "source_photos",
]
