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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="casebook", description="共富案例库：校验案例文件并生成网站。")
    parser.add_argument("--version", action="version", version=f"casebook {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="命令", parser_class=_Parser)

    check = sub.add_parser("check", help="校验全部案例文件，列出所有问题", description="校验全部案例文件，列出所有问题。")
    check.add_argument("--cases", default="cases", help="案例目录（默认 cases/）")
    check.add_argument("--format", choices=("text", "json", "github"), default="text",
                       help="输出格式：text 文字（默认），json，github（GitHub Actions 注释）")
    check.set_defaults(func=_check)

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
