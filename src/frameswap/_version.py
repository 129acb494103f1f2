"""The package's version, in a leaf module: the CLI, the server, identity files and the AI
disclosure all name it, and importing it from ``frameswap`` itself made each of them import the
package root, which imports them back (a cycle through the parent that import-linter's
``acyclic_siblings`` contract cannot see). ``pyproject.toml`` reads it from here."""

__version__ = "0.1.0"
