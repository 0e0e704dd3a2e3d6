from adjoint_compiler.cli import main

raise SystemExit(main())
