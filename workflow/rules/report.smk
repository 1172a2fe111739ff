# report stage


localrules:
    report_all,


rule report_all:
    input:
        [],
