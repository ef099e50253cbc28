"""The Reflex layer's state: the only place where Reflex meets the domain."""
