"""The `casebook` command: a thin layer over the library. Exit codes: 0 ok, 1 invalid, 2 usage."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .errors import format_github, format_json, format_text
from .models import FILE_MODELS
from .schema import combined_schema, dumps, kind_schema, write_schemas
from .validate import load_casebook


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own messages are English; say it in Chinese too
        self.print_usage(sys.stderr)
        self.exit(2, f"用法错误：{message}\n提示：运行 casebook --help 查看用法\n")


def _check(args: argparse.Namespace) -> int:
    root = Path(args.cases)
    if not root.is_dir():
        print(f"用法错误：找不到案例目录“{root}”。提示：用 --cases 指向含有 clusters/ 的目录", file=sys.stderr)
        return 2
    book, errors = load_casebook(root)
    counts = book.counts()
    if args.format == "json":
        print(format_json(errors, counts))
    elif args.format == "github":
        if errors:
            print(format_github(errors))
    else:
        if errors:
            print(format_text(errors))
            print(f"\n共 {len(errors)} 个问题，涉及 {len({e.file for e in errors})} 个文件。", file=sys.stderr)
        else:
            print(f"检查通过：{counts['files']} 个文件，{counts['clusters']} 个组团，{counts['lessons']} 条经验启示，"
                  f"{counts['indicators']} 个指标，{counts['observations']} 条数据。")
    return 1 if errors else 0


def _schema(args: argparse.Namespace) -> int:
    if args.out:
        for path in write_schemas(Path(args.out)):
            print(f"已写入 {path}")
        return 0
    print(dumps(kind_schema(args.kind) if args.kind else combined_schema()), end="")
    return 0


def _build(args: argparse.Namespace) -> int:
    from .mkdocs_plugin import build
    from .site import BuildFailed

    config = Path(args.config)
    if not config.is_file():
        print(f"用法错误：找不到站点配置“{config}”。提示：在项目根目录运行，或用 --config 指定 mkdocs.yml", file=sys.stderr)
        return 2
    if args.cases and not Path(args.cases).is_dir():
        print(f"用法错误：找不到案例目录“{args.cases}”。", file=sys.stderr)
        return 2
    try:
        target = build(config, Path(args.site_dir) if args.site_dir else None,
                       Path(args.cases) if args.cases else None, strict=args.strict, verbose=args.verbose)
    except BuildFailed as exc:
        print(f"构建失败，原有网站保持不变。\n{exc}", file=sys.stderr)
        return 1
    print(f"网站已生成：{target}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from .mkdocs_plugin import serve

    serve(Path(args.config), Path(args.cases) if args.cases else None, args.dev_addr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="casebook", description="共富案例库：校验案例文件并生成网站。")
    parser.add_argument("--version", action="version", version=f"casebook {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="命令", parser_class=_Parser)

    check = sub.add_parser("check", help="校验全部案例文件，列出所有问题", description="校验全部案例文件，列出所有问题。")
    check.add_argument("--cases", default="cases", help="案例目录（默认 cases/）")
    check.add_argument("--format", choices=("text", "json", "github"), default="text",
                       help="输出格式：text 文字（默认），json，github（GitHub Actions 注释）")
    check.set_defaults(func=_check)

    build = sub.add_parser("build", help="生成网站（失败时保留原有网站）", description="生成网站。构建失败时原有网站保持不变。")
    build.add_argument("--cases", help="案例目录（默认取 mkdocs.yml 中的设置，即 cases/）")
    build.add_argument("--site-dir", help="输出目录（默认 site/）")
    build.add_argument("--config", default="mkdocs.yml", help="站点配置文件（默认 mkdocs.yml）")
    build.add_argument("--strict", action="store_true", help="出现任何警告即视为失败")
    build.add_argument("--verbose", action="store_true", help="显示详细过程")
    build.set_defaults(func=_build)

    serve = sub.add_parser("serve", help="本地预览，修改案例文件后自动刷新", description="本地预览网站；保存案例文件后自动重建并刷新浏览器。")
    serve.add_argument("--cases", help="案例目录（默认 cases/）")
    serve.add_argument("--config", default="mkdocs.yml", help="站点配置文件（默认 mkdocs.yml）")
    serve.add_argument("--dev-addr", default="127.0.0.1:8000", help="预览地址（默认 127.0.0.1:8000）")
    serve.set_defaults(func=_serve)

    schema = sub.add_parser("schema", help="输出案例文件的 JSON Schema", description="输出案例文件的 JSON Schema。")
    schema.add_argument("--kind", choices=tuple(FILE_MODELS), help="只输出一类文件的 Schema")
    schema.add_argument("--out", help="把全部 Schema 写入这个目录（如 schema/）")
    schema.set_defaults(func=_schema)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
