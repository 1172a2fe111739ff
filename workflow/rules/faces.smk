# faces stage

localrules:
    faces_all,


rule faces_all:
    input:
        [],
