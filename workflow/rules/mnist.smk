# mnist stage

localrules:
    mnist_all,


rule mnist_all:
    input:
        [],
