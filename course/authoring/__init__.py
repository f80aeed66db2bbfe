"""What an instructor runs to build the course's files, each a command:

    python -m course.authoring.data         # datasets/: SIGNS, the digits 6-9, resnet50.h5
    python -m course.authoring.pretrained   # train the solution's ResNet50: resnet50.h5
    python -m course.authoring.references   # hidden/ASSIGNMENT/references.npz
    python -m course.authoring.figures      # the block diagrams of source/resnets/images/

(`make data`, `make pretrained`, `make references`, `make figures`). Nothing else of the course
imports them.
"""
