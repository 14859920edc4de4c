from kpitui.cli import main

raise SystemExit(main())
