# data stage

localrules:
    data_all,


rule data_all:
    input:
        [],
