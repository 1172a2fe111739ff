# gmm stage

localrules:
    gmm_all,


rule gmm_all:
    input:
        [],
