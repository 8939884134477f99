# operators/ windowed part (issue 7): windowed aggregations, suppression (emit-final),
# windowed keys and serdes. Included from the top Makefile.am after operators/local.mk.
pkginclude_HEADERS += include/rill/window.h
