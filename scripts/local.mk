EXTRA_DIST += \
	%reldir%/install-deps.sh \
	%reldir%/demo.sh %reldir%/gen-clickstream.py \
	%reldir%/test.sh %reldir%/build.sh \
	%reldir%/check-deps-arrows.sh
