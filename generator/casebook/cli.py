"""The `casebook` command: a thin layer over the library. Exit codes: 0 ok, 1 invalid, 2 usage."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import NoReturn

from . import __version__
from .collector import fewer_collections
from .derive import completeness
from .errors import emit, format_github, format_gitlab, format_json, format_text, shown
from .models import FILE_MODELS
from .present import STATE_LABELS, STATES
from .schema import combined_schema, dumps, kind_schema, write_schemas
from .store import Store, committed_files, open_store
from .validate import Casebook, load_casebook


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse's own messages are English; say it in Chinese too
        self.print_usage(sys.stderr)
        self.exit(2, f"用法错误：{message}\n提示：运行 casebook --help 查看用法\n")


def _build_cache(project: Path) -> Store:
    """The project's build cache, when a build made one (and git does not track it): files that
    validated clean before, unchanged, are read back from it instead of validated again. Otherwise
    (CI's fresh clone) a store that keeps nothing."""
    cache_dir = project / ".cache" / "casebook"
    if not (cache_dir / "cache.sqlite").is_file() or committed_files(cache_dir):
        return Store(None)
    return open_store(cache_dir)


def _check(args: argparse.Namespace) -> int:
    root = Path(args.cases)
    if not root.is_dir():
        emit(f"用法错误：找不到案例目录“{shown(root)}”。提示：用 --cases 指向含有 clusters/ 的目录", err=True)
        return 2
    project = root.resolve().parent
    store = _build_cache(project)
    with fewer_collections():
        book, errors = load_casebook(root, store, keep=False)
    store.commit()
    overlay_note, states = None, STATES
    if args.overlay and not errors:
        overlay_note, more, internal = _overlay_check(Path(args.overlay), root, book)
        errors = sorted(errors + more, key=lambda e: (e.file, e.line, e.column, e.message))
        if internal is not None:  # the completeness of the internal edition: what is filled in, what is not
            from .present import EDITIONS

            book, states = internal, EDITIONS["internal"].states()
    # The hand-written pages beside the casebook (the project's content/ and theme_overrides/) arrive
    # by pull request too: the same check, so CI annotates them where the build would refuse them.
    if (project / "mkdocs.yml").is_file() and (project / "content").is_dir():
        from .content import check_content

        overrides = project / "theme_overrides"
        errors = sorted(errors + check_content(project / "content", overrides if overrides.is_dir() else None),
                        key=lambda e: (e.file, e.line, e.column, e.message))
    counts = book.counts()
    cells = completeness(book) if args.completeness and not errors else None
    if args.format == "json":
        payload = json.loads(format_json(errors, counts))
        if cells is not None:
            payload["completeness"] = [asdict(c) for c in cells]
        emit(json.dumps(payload, ensure_ascii=False, indent=2))
    elif args.format == "github":
        if errors:
            emit(format_github(errors), commands=True)
    elif args.format == "gitlab":
        emit(format_gitlab(errors))
    else:
        if errors:
            emit(format_text(errors))
            emit(f"\n共 {len(errors)} 个问题，涉及 {len({e.file for e in errors})} 个文件。", err=True)
        else:
            emit(f"检查通过：{counts['files']} 个文件，{counts['clusters']} 个组团，{counts['lessons']} 条经验启示，"
                  f"{counts['indicators']} 个指标，{counts['observations']} 条数据。")
            if overlay_note:
                emit(overlay_note)
            if cells is not None:
                emit(completeness_text(book, cells, states))
    return 1 if errors else 0


def _overlay_check(overlay: Path, root: Path, book: Casebook) -> tuple[str | None, list, Casebook | None]:
    """The overlay checked against the casebook: a line saying how much of it is filled in, the
    errors, and the internal edition's casebook (None when invalid)."""
    from .site import edition_book

    internal, read, errors = edition_book(book, root, overlay, "internal")
    if errors or read is None:
        return None, errors, None
    n = read.counts()
    return (f"内部数据（{shown(overlay)}）：脱敏数据 {n['figures']} 项，已填写真实数值 {n['figures_filled']} 项；"
            f"脱敏名称 {n['names']} 个，已填写 {n['names_filled']} 个。"), [], internal


def completeness_text(book, cells, states=STATES) -> str:
    """The cluster × indicator matrix as plain text, in the site's words and marks (present.STATES,
    or an edition's: present.Edition.states)."""
    from .derive import ordered_clusters

    clusters = ordered_clusters(book)
    by = {(c.cluster_id, c.indicator_id): c for c in cells}
    legend = "  ".join(f"{s.mark} {s.label}" for s in states.values())
    lines = ["", f"数据完整度（{legend}）", "",
             "\t".join(["指标", *[c.id for c in clusters]])]
    for ind_id, ind in book.indicators.items():
        marks = [states[by[(c.id, ind_id)].state].mark for c in clusters]
        lines.append("\t".join([shown(f"{ind.name}（{ind_id}）"), *marks]))  # case text: one line, shown
    totals = {s: sum(1 for c in cells if c.state == s) for s in states}
    lines += ["", "合计：" + "，".join(f"{states[s].label} {n}" for s, n in totals.items())]
    return "\n".join(lines)


def _state_choices() -> str:
    *first, last = STATE_LABELS.values()
    return f"{'、'.join(first)}还是{last}"


def _schema(args: argparse.Namespace) -> int:
    if args.out:
        for path in write_schemas(Path(args.out)):
            emit(f"已写入 {shown(path)}")
        return 0
    print(dumps(kind_schema(args.kind) if args.kind else combined_schema()), end="")
    return 0


def _build(args: argparse.Namespace) -> int:
    from .mkdocs_plugin import build, open_session
    from .publish import BuildFailed, UnsafeSiteDir

    config = Path(args.config)
    if not config.is_file():
        emit(f"用法错误：找不到站点配置“{shown(config)}”。提示：在项目根目录运行，或用 --config 指定 mkdocs.yml", err=True)
        return 2
    if args.cases and not Path(args.cases).is_dir():
        emit(f"用法错误：找不到案例目录“{shown(args.cases)}”。提示：用 --cases 指向含有 clusters/ 的目录", err=True)
        return 2
    overlay = args.overlay or args.leak_check
    if overlay and not Path(overlay).is_dir():
        emit(f"用法错误：找不到内部数据目录“{shown(overlay)}”。提示：先运行 casebook overlay init 目录 生成骨架，或检查路径",
             err=True)
        return 2
    if overlay and args.docs_folder:
        emit("用法错误：--docs-folder 不能与 --overlay 或 --leak-check 同用。提示：分两次构建", err=True)
        return 2
    try:
        if args.docs_folder:  # the docs-folder host: an engine that runs no plugin builds the folder
            from . import docsfolder

            session = docsfolder.open_session(config, Path(args.cases) if args.cases else None, strict=args.strict)
            target = docsfolder.build_with_engine(config, Path(args.docs_folder), Path(args.site_dir) if args.site_dir
                                                  else None, session=session, verbose=args.verbose)
            emit(f"网站已生成：{shown(target)}（经文档文件夹 {shown(args.docs_folder)}）")
            return 0
        # The command holds the build session and hands it to the host (MkDocs) to drive.
        session = open_session(config, Path(args.cases) if args.cases else None, strict=args.strict)
        public_site = session.settings.site_dir
        if args.overlay or args.leak_check:
            session.use_overlay(Path(args.overlay or args.leak_check), internal=bool(args.overlay))
        site_dir = Path(args.site_dir) if args.site_dir else None
        refused = session.internal_target_refused(site_dir or session.settings.site_dir, public_site)
        if refused:
            emit(f"用法错误：{refused}", err=True)
            return 2
        target = build(config, site_dir, verbose=args.verbose, session=session)
    except UnsafeSiteDir as exc:
        emit(f"用法错误：{exc}", err=True)
        return exc.exit_code
    except BuildFailed as exc:
        emit(f"构建失败，原有网站保持不变。\n{exc}", err=True)
        return exc.exit_code
    if session.skipped:
        which = "内部版网站" if session.settings.edition == "internal" else "网站"
        emit(f"{which}已是最新：{shown(target)}（自上次构建以来，案例、页面、配置和程序都没有改动，网站也未被改动，"
             "未重新生成）。提示：要完整重建，用 casebook build --strict")
    elif session.settings.edition == "internal":
        emit(f"内部版网站已生成：{shown(target)}（内部资料，不得外传；不要发布到公开网站）")
    else:
        emit(f"网站已生成：{shown(target)}")
    if session.leak_report is not None:
        count, seconds = session.leak_report
        emit(f"泄密检查通过：在全部发布文件中查找 {count} 项内部数据，均未出现（用时 {seconds:.1f} 秒）。")
    return 0


def _overlay_init(args: argparse.Namespace) -> int:
    from .overlay import init_overlay, placement_error

    root, target = Path(args.cases), Path(args.dir)
    if not root.is_dir():
        emit(f"用法错误：找不到案例目录“{shown(root)}”。提示：用 --cases 指向含有 clusters/ 的目录", err=True)
        return 2
    refused = placement_error(target, root)
    if refused:
        emit(f"用法错误：{shown(refused)}", err=True)
        return 2
    book, errors = load_casebook(root)
    if errors:
        emit(format_text(errors))
        emit(f"\n案例文件有 {len(errors)} 个问题，未生成内部数据骨架。提示：先让 casebook check 通过", err=True)
        return 1
    written, kept = init_overlay(target, book)
    from .overlay import load_overlay

    read, _ = load_overlay(target, book)
    n = read.counts()
    emit(f"已写入 {len(written)} 个文件到 {shown(target)}"
         + (f"；{len(kept)} 个已有文件保持不变（从不覆盖）" if kept else "") + "。")
    emit(f"骨架列出脱敏数据 {n['figures']} 项、脱敏名称 {n['names']} 个。请把 '*' 换成真实数值和名称，"
         f"再运行 casebook check --overlay {shown(target)}。")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from .mkdocs_plugin import serve

    serve(Path(args.config), Path(args.cases) if args.cases else None, args.dev_addr,
          Path(args.overlay) if args.overlay else None)
    return 0


def _new(args: argparse.Namespace) -> int:
    from .scaffold import ScaffoldError, new_cluster

    try:
        path = new_cluster(Path(args.cases), args.id, args.name)
    except ScaffoldError as exc:
        emit(f"未创建：{shown(exc)}", err=True)
        return exc.exit_code
    emit(f"已创建 {shown(path)}。请把其中的“【待填写】”换成真实内容，然后运行 casebook check。")
    return 0


def _diff(args: argparse.Namespace) -> int:
    from .diff import DiffError, diff_revisions, to_json, to_markdown

    if args.overlay:
        return _fill_report(args)
    if not args.old:
        emit("用法错误：缺少要比较的版本。提示：如 casebook diff main；或用 --overlay 目录 查看内部数据的填写情况", err=True)
        return 2

    try:
        result = diff_revisions(Path(args.cases), args.old, args.new)
    except DiffError as exc:
        emit(f"无法比较：{shown(exc)}", err=True)
        if exc.errors:
            emit(format_text(exc.errors), err=True)
        return exc.code
    emit(to_json(result) if args.format == "json" else to_markdown(result), end="" if args.format != "json" else "\n")
    return 0


def _fill_report(args: argparse.Namespace) -> int:
    """`casebook diff --overlay DIR`: the internal edition against the public one — which masked
    figures and names are filled in and which are still '*'. It names them, never their values:
    this text is meant to be pasted where the public repository's readers see it."""
    from .overlay import fill_report

    root = Path(args.cases)
    book, errors = load_casebook(root)
    if not errors:
        _, more, _ = _overlay_check(Path(args.overlay), root, book)
        errors += more
    if errors:
        emit(format_text(errors))
        emit(f"\n有 {len(errors)} 个问题，无法比较。提示：先让 casebook check --overlay 通过", err=True)
        return 1
    from .site import edition_book

    _, read, _ = edition_book(book, root, Path(args.overlay), "internal")
    assert read is not None
    text = fill_report(book, read, args.format)
    emit(text, end="" if args.format != "json" else "\n")
    return 0


def _writeup(args: argparse.Namespace) -> int:
    """A thin edge over writeup/writeup_docx/writeup_pdf: usage errors exit 2, an invalid casebook 1."""
    from .store import write_atomic
    from .writeup import UnknownCluster, build_writeup

    out, root = Path(args.out), Path(args.cases)
    kind = out.suffix.lower()
    if out.is_dir():
        emit(f"用法错误：“{shown(out)}”是一个目录。提示：--out 写文件名，如 --out {shown(out / '经验材料.docx')}", err=True)
        return 2
    if kind not in (".docx", ".pdf"):
        emit(f"用法错误：不认识输出文件“{shown(out)}”的格式。提示：--out 的文件名以 .docx（Word）或 .pdf 结尾，"
             "如 --out 经验材料.docx", err=True)
        return 2
    if not root.is_dir():
        emit(f"用法错误：找不到案例目录“{shown(root)}”。提示：用 --cases 指向含有 clusters/ 的目录", err=True)
        return 2
    if out.resolve().is_relative_to(root.resolve()):
        emit(f"用法错误：不能把经验材料写进案例目录“{shown(root)}”。提示：写到项目目录之外或其他目录，如 --out 经验材料{kind}",
             err=True)
        return 2
    book, errors = load_casebook(root)
    if errors:
        emit(format_text(errors))
        emit(f"\n案例文件有 {len(errors)} 个问题，未生成经验材料。提示：按上面的提示修改后再运行", err=True)
        return 1
    mark = ""
    if args.overlay:
        from .present import EDITIONS
        from .site import edition_book

        book, _, errors = edition_book(book, root, Path(args.overlay), "internal")
        if errors:
            emit(format_text(errors))
            emit(f"\n内部数据有 {len(errors)} 个问题，未生成经验材料。提示：按上面的提示修改后再运行", err=True)
            return 1
        mark = EDITIONS["internal"].mark
    try:
        writeup = build_writeup(book, args.cluster or None, mark=mark)
    except UnknownCluster as exc:
        emit(f"用法错误：没有标识为“{shown('、'.join(exc.missing))}”的组团。"
             f"提示：可用的组团标识有 {shown('、'.join(exc.known))}", err=True)
        return 2
    if kind == ".docx":
        from .writeup_docx import REFERENCE, render_docx

        # The project's own layout, where it has one (theme_overrides/writeup/reference.docx).
        reference = root.resolve().parent / "theme_overrides" / REFERENCE
        data = render_docx(writeup, reference if reference.is_file() else None)
    else:
        from .writeup_pdf import PdfUnavailable, render_pdf

        try:
            data = render_pdf(writeup)
        except PdfUnavailable as exc:
            emit(f"未生成 PDF：{exc}", err=True)
            return 1
    try:
        write_atomic(out, data)
    except OSError as exc:
        emit(f"未能写入“{shown(out)}”（{shown(exc.strerror or type(exc).__name__)}）。"
             "提示：检查输出目录的写入权限和磁盘空间，或换一个输出位置", err=True)
        return 1
    what = "全部组团" if not args.cluster else f"{len(set(args.cluster))} 个组团"
    edition = "，内部资料" if mark else ""
    emit(f"经验材料已生成：{shown(out)}（{'Word' if kind == '.docx' else 'PDF'}，{what}{edition}）")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="casebook", description="共富案例库：校验案例文件并生成网站。")
    parser.add_argument("--version", action="version", version=f"casebook {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="命令", parser_class=_Parser)

    check = sub.add_parser("check", help="校验全部案例文件，列出所有问题", description="校验全部案例文件，列出所有问题。")
    check.add_argument("--cases", default="cases", help="案例目录（默认 cases/）")
    check.add_argument("--format", choices=("text", "json", "github", "gitlab"), default="text",
                       help="输出格式：text 文字（默认），json，github（GitHub Actions 注释），gitlab（GitLab 代码质量报告）")
    check.add_argument("--completeness", action="store_true",
                       help=f"校验通过后列出每个组团 × 指标的数据是{_state_choices()}")
    check.add_argument("--overlay", metavar="目录", help="同时校验这个内部数据目录（真实数值和名称）")
    check.set_defaults(func=_check)

    new = sub.add_parser("new", help="新建一个组团文件（带中文注释的模板）",
                         description="新建组团文件 cases/clusters/<标识>.yaml。已有同名文件时不会覆盖。")
    new.add_argument("id", help="组团的英文小写短标识，如 tea-valley")
    new.add_argument("--name", help="组团名称（原文写法）")
    new.add_argument("--cases", default="cases", help="案例目录（默认 cases/）")
    new.set_defaults(func=_new)

    diff = sub.add_parser("diff", help="比较两个版本之间案例数据的变化",
                          description="比较某个 git 版本与工作区（或两个版本之间）的案例数据变化，输出可贴到合并请求中的 Markdown。")
    diff.add_argument("old", metavar="版本", nargs="?", help="旧版本：分支名、标签或提交号，如 main 或 HEAD~1")
    diff.add_argument("new", metavar="新版本", nargs="?", help="新版本（省略时与工作区比较）")
    diff.add_argument("--cases", default="cases", help="案例目录（默认 cases/）")
    diff.add_argument("--format", choices=("markdown", "json"), default="markdown", help="输出格式（默认 markdown）")
    diff.add_argument("--overlay", metavar="目录",
                      help="不比较版本，而是列出内部版相对公开版已填写和仍待填写的数据与名称（只列名目，不含数值）")
    diff.set_defaults(func=_diff)

    build = sub.add_parser("build", help="生成网站（失败时保留原有网站）", description="生成网站。构建失败时原有网站保持不变。")
    build.add_argument("--cases", help="案例目录（默认取 mkdocs.yml 中的设置，即 cases/）")
    build.add_argument("--site-dir", help="输出目录（默认 site/）")
    build.add_argument("--config", default="mkdocs.yml", help="站点配置文件（默认 mkdocs.yml）")
    build.add_argument("--strict", action="store_true", help="出现任何警告即视为失败")
    build.add_argument("--verbose", action="store_true", help="显示详细过程")
    build.add_argument("--docs-folder", metavar="目录",
                       help="经文档文件夹构建：把全部页面和配置写入这个目录（不含本工具的插件，可交给任何兼容 MkDocs 的引擎），"
                            "再由 mkdocs 构建并补上检索和下载文件")
    edition = build.add_mutually_exclusive_group()
    edition.add_argument("--overlay", metavar="目录",
                         help="生成内部版：用这个内部数据目录中的真实数值和名称，每页标注“内部资料”，默认写入 site-internal/")
    edition.add_argument("--leak-check", metavar="目录",
                         help="生成公开版，并在全部发布文件中查找这个内部数据目录中的每项真实数值和名称；"
                              "找到任何一项即构建失败，原有网站保持不变")
    build.set_defaults(func=_build)

    overlay = sub.add_parser("overlay", help="内部数据（真实数值和名称）", description="管理内部数据目录。")
    overlay_sub = overlay.add_subparsers(dest="overlay_command", required=True, metavar="命令", parser_class=_Parser)
    init = overlay_sub.add_parser("init", help="生成内部数据骨架（从不覆盖已有文件）",
                                  description="为每个含脱敏内容的案例文件写一个内部数据文件，列出全部脱敏数据和名称，"
                                              "供数据所有方填写真实值。已有文件从不覆盖。目录必须在公开仓库之外。")
    init.add_argument("dir", metavar="目录", help="内部数据目录，如 ../共富案例库-内部数据")
    init.add_argument("--cases", default="cases", help="案例目录（默认 cases/）")
    init.set_defaults(func=_overlay_init)

    serve = sub.add_parser("serve", help="本地预览，修改案例文件后自动刷新", description="本地预览网站；保存案例文件后自动重建并刷新浏览器。")
    serve.add_argument("--cases", help="案例目录（默认 cases/）")
    serve.add_argument("--config", default="mkdocs.yml", help="站点配置文件（默认 mkdocs.yml）")
    serve.add_argument("--dev-addr", default="127.0.0.1:8000", help="预览地址（默认 127.0.0.1:8000）")
    serve.add_argument("--overlay", metavar="目录", help="预览内部版（用这个内部数据目录中的真实数值和名称）")
    serve.set_defaults(func=_serve)

    writeup = sub.add_parser("writeup", help="生成经验材料（公文格式的 Word 文档或 PDF）",
                             description="把案例库（或选定的组团）生成为经验材料：.docx 为按 GB/T 9704-2012 排版的 Word 文档，"
                                         ".pdf 为同样版式的 PDF。格式由 --out 的扩展名决定。")
    writeup.add_argument("--cluster", action="append", metavar="标识",
                         help="只写这个组团（可重复，如 --cluster grain-store --cluster mountain-road）；省略时写全部")
    writeup.add_argument("--cases", default="cases", help="案例目录（默认 cases/）")
    writeup.add_argument("--out", required=True, metavar="文件", help="输出文件：经验材料.docx 或 经验材料.pdf")
    writeup.add_argument("--overlay", metavar="目录",
                         help="生成内部版经验材料：真实数值和名称，页眉标注“内部资料”")
    writeup.set_defaults(func=_writeup)

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
